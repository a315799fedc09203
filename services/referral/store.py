"""Where referral keeps what it decides on: cases, referrals and their timers, the outcomes of agencies' actions,
plan reviews and outreach engagements. `ReferralStore` says what casework needs, `PostgresStore` does it (and the
rest) in the caller's transaction. The events a decision makes are recorded through the store as well (into the
outbox), so a step and its events commit together.

tests/unit/referral/fakes.py keeps casework's promises in memory, and tests/integration/test_referral_store.py
holds both to them, so the fake the fast tests decide against cannot drift from the real store.

This module holds every write of referral's; what the HTTP API only shows is read in reading.py (the read side,
as cosmicpython's views), so that no handler or route holds SQL of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from backbone.directory import Capacity
from backbone.outbox import TransactionStore
from backbone.telemetry import current_trace_id, current_traceparent
from schemas.envelope import Envelope
from schemas.events import Event, OutreachEnding, OutreachMethod, OutreachResult
from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral.decisions import Answer, Escalation, Referral, Timer
from services.referral.lifecycle import Action, State
from services.referral.outreach import Step


@dataclass(frozen=True)
class Proposal:
    """A new referral as it is stored: the referral, and how routing chose it."""

    referral: Referral
    routing_rule: str
    reason: str
    waitlisted: bool
    cause_event_id: UUID
    event_id: UUID


@dataclass(frozen=True)
class Case:
    """Who leads a case, or why it waits in the coordination queue."""

    case_id: UUID
    lead_agency: str | None = None
    lead_referral_id: UUID | None = None
    queued_at: datetime | None = None
    queue_reason: str | None = None


@dataclass(frozen=True)
class DueTimer:
    timer_id: int
    referral_id: UUID
    timer: Timer
    traceparent: str | None = None  # the trace the timer was set in, which its firing continues


class ReferralStore(Protocol):
    async def open_case(self, case_id: UUID) -> None:
        """Keep the case, if it is not kept already (with no lead, not queued)."""
        ...

    async def case(self, case_id: UUID) -> Case | None: ...

    async def capacities(self) -> dict[str, Capacity]:
        """The capacities agencies have reported, by agency id."""
        ...

    async def report_capacity(self, agency_id: str, capacity: Capacity) -> None: ...

    async def withdraw_capacity(self, agency_id: str) -> None:
        """Forget the agency's reported capacity: the directory's own applies again."""
        ...

    async def earlier_routes(self, consultation_id: UUID) -> list[tuple[str, str]]:
        """(to_agency, routing_rule) of every referral the consultation already had."""
        ...

    async def household_domains(self, case_id: UUID, *, besides: UUID, plan_rules: frozenset[str]) -> set[str]:
        """What the case's other consultations were about (their first referrals, a plan's roles left out)."""
        ...

    async def add_referral(self, proposal: Proposal) -> None:
        """Store a proposed referral, with its first timer (overdue, at its respond_by)."""
        ...

    async def referral_for_update(self, referral_id: UUID) -> Referral | None:
        """The referral, locked until the transaction ends; None if there is none."""
        ...

    async def save_answer(self, referral_id: UUID, answer: Answer) -> None: ...

    async def save_escalation(self, referral_id: UUID, escalation: Escalation) -> None: ...

    async def add_timer(self, referral_id: UUID, timer: Timer) -> None:
        """Keep a timer, with the trace it is set in (the current span's)."""
        ...

    async def due_timers(self, now: datetime, *, limit: int) -> list[DueTimer]:
        """Unfired timers due by `now`, oldest first; each locked, and skipped by a concurrent caller."""
        ...

    async def mark_fired(self, timer_id: int, now: datetime) -> None: ...

    async def assign_lead(self, case_id: UUID, agency: str, referral_id: UUID) -> bool:
        """Make `agency` the case's lead unless it has one; True if it became the lead."""
        ...

    async def queue(self, case_id: UUID, reason: str, now: datetime) -> None:
        """Put a case with no lead in the coordination queue (its first queued time is kept)."""
        ...

    async def record(
        self, event: Event, *, caused_by: Envelope | UUID | None = None, event_id: UUID | None = None
    ) -> Envelope:
        """Publish `event` when the transaction commits (the outbox)."""
        ...


class PostgresStore(TransactionStore):
    """The store in referral's database, within the caller's transaction on `conn`."""

    async def open_case(self, case_id: UUID) -> None:
        await self.conn.execute("INSERT INTO cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", case_id)

    async def case(self, case_id: UUID) -> Case | None:
        row = await self.conn.fetchrow(
            "SELECT case_id, lead_agency, lead_referral_id, queued_at, queue_reason FROM cases WHERE case_id = $1",
            case_id,
        )
        return None if row is None else Case(**dict(row))

    async def capacities(self) -> dict[str, Capacity]:
        rows = await self.conn.fetch("SELECT agency_id, capacity FROM capacities")
        return {row["agency_id"]: Capacity(row["capacity"]) for row in rows}

    async def report_capacity(self, agency_id: str, capacity: Capacity) -> None:
        await self.conn.execute(
            "INSERT INTO capacities (agency_id, capacity) VALUES ($1, $2)"
            " ON CONFLICT (agency_id) DO UPDATE SET capacity = EXCLUDED.capacity, updated_at = now()",
            agency_id,
            capacity,
        )

    async def withdraw_capacity(self, agency_id: str) -> None:
        await self.conn.execute("DELETE FROM capacities WHERE agency_id = $1", agency_id)

    async def earlier_routes(self, consultation_id: UUID) -> list[tuple[str, str]]:
        rows = await self.conn.fetch(
            "SELECT to_agency, routing_rule FROM referrals WHERE consultation_id = $1", consultation_id
        )
        return [(row["to_agency"], row["routing_rule"]) for row in rows]

    async def household_domains(self, case_id: UUID, *, besides: UUID, plan_rules: frozenset[str]) -> set[str]:
        rows = await self.conn.fetch(
            "SELECT DISTINCT unnest(domains) AS domain FROM referrals WHERE case_id = $1 AND attempt = 1"
            " AND routing_rule <> ALL($2::text[]) AND consultation_id <> $3",
            case_id,
            sorted(plan_rules),
            besides,
        )
        return {row["domain"] for row in rows}

    async def add_referral(self, proposal: Proposal) -> None:
        referral = proposal.referral
        await self.conn.execute(
            "INSERT INTO referrals (referral_id, case_id, consultation_id, from_agency, to_agency, district, domains,"
            " urgency, routing_rule, respond_by, cause_event_id, event_id, trace_id, attempt, reason, waitlisted,"
            " about_person) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            referral.referral_id,
            referral.case_id,
            referral.consultation_id,
            referral.from_agency,
            referral.to_agency,
            referral.district,
            list(referral.domains),
            referral.urgency,
            proposal.routing_rule,
            referral.respond_by,
            proposal.cause_event_id,
            proposal.event_id,
            current_trace_id(),
            referral.attempt,
            proposal.reason,
            proposal.waitlisted,
            referral.person_id,
        )
        await self.add_timer(referral.referral_id, Timer("overdue", referral.respond_by))

    async def referral_for_update(self, referral_id: UUID) -> Referral | None:
        row = await self.conn.fetchrow("SELECT * FROM referrals WHERE referral_id = $1 FOR UPDATE", referral_id)
        return None if row is None else _referral(row)

    async def save_answer(self, referral_id: UUID, answer: Answer) -> None:
        # A repeated answer never reaches here (it decides nothing); coalesce keeps what an earlier step gave.
        await self.conn.execute(
            "UPDATE referrals SET state = $2, updated_at = $3, decline_reason = coalesce($4, decline_reason),"
            " decline_note = coalesce($5, decline_note), outcome = coalesce($6, outcome),"
            " cancel_reason = coalesce($7, cancel_reason), cancel_note = coalesce($8, cancel_note)"
            " WHERE referral_id = $1",
            referral_id,
            answer.state,
            answer.at,
            answer.decline_reason,
            answer.note if answer.decline_reason else None,
            answer.outcome,
            answer.cancel_reason,
            answer.note if answer.cancel_reason else None,
        )

    async def save_escalation(self, referral_id: UUID, escalation: Escalation) -> None:
        await self.conn.execute(
            "UPDATE referrals SET escalation_level = $2, overdue_at = coalesce($3, overdue_at) WHERE referral_id = $1",
            referral_id,
            escalation.level,
            escalation.overdue_at,
        )

    async def add_timer(self, referral_id: UUID, timer: Timer) -> None:
        await self.conn.execute(
            "INSERT INTO referral_timers (referral_id, kind, due_at, traceparent) VALUES ($1, $2, $3, $4)",
            referral_id,
            timer.kind,
            timer.due_at,
            current_traceparent(),
        )

    async def due_timers(self, now: datetime, *, limit: int) -> list[DueTimer]:
        rows = await self.conn.fetch(
            "SELECT timer_id, referral_id, kind, due_at, traceparent FROM referral_timers"
            " WHERE fired_at IS NULL AND due_at <= $1 ORDER BY due_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [
            DueTimer(row["timer_id"], row["referral_id"], Timer(row["kind"], row["due_at"]), row["traceparent"])
            for row in rows
        ]

    async def mark_fired(self, timer_id: int, now: datetime) -> None:
        await self.conn.execute("UPDATE referral_timers SET fired_at = $2 WHERE timer_id = $1", timer_id, now)

    async def assign_lead(self, case_id: UUID, agency: str, referral_id: UUID) -> bool:
        assigned = await self.conn.fetchval(
            "UPDATE cases SET lead_agency = $2, lead_referral_id = $3, queued_at = NULL, queue_reason = NULL"
            " WHERE case_id = $1 AND lead_agency IS NULL RETURNING true",
            case_id,
            agency,
            referral_id,
        )
        return bool(assigned)

    async def queue(self, case_id: UUID, reason: str, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE cases SET queued_at = coalesce(queued_at, $2), queue_reason = $3"
            " WHERE case_id = $1 AND lead_agency IS NULL",
            case_id,
            now,
            reason,
        )

    async def remember_person(self, case_id: UUID, person_id: UUID) -> None:
        """Keep whose case it is (from the consultation that opened or joined it); the first person kept stays."""
        await self.conn.execute(
            "UPDATE cases SET person_id = $2 WHERE case_id = $1 AND person_id IS NULL", case_id, person_id
        )

    # The outcome of each action an agency sent on referral.responses.v1, kept in the transaction that applied or
    # refused it, so that a retried record gets the first outcome (outcomes.py reads them back).

    async def answered(self, agency: str, action_id: str) -> bool:
        """Whether the action with this `ce_id` from this agency has an outcome already."""
        return bool(
            await self.conn.fetchval(
                "SELECT EXISTS (SELECT 1 FROM applied_actions WHERE agency_id = $1 AND action_id = $2)"
                " OR EXISTS (SELECT 1 FROM rejected_actions WHERE agency_id = $1 AND action_id = $2)",
                agency,
                action_id,
            )
        )

    async def record_applied(self, agency: str, action_id: str, referral_id: UUID, action: Action) -> None:
        """Keep that the agency's action was applied (a second record of it changes nothing)."""
        await self.conn.execute(
            "INSERT INTO applied_actions (agency_id, action_id, referral_id, action) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT DO NOTHING",
            agency,
            action_id,
            referral_id,
            str(action),
        )

    async def record_refused(self, agency: str, action_id: str, reasons: str) -> None:
        """Keep that the agency's action was refused, with its reasons (a JSON list of RejectionReason)."""
        await self.conn.execute(
            "INSERT INTO rejected_actions (agency_id, action_id, reasons) VALUES ($1, $2, $3)",
            agency,
            action_id,
            reasons,
        )

    # Support plans that came back for review (見直し): open until the case's next plan is confirmed.

    async def review_by_next_plan(self, case_id: UUID, plan_id: UUID, at: datetime) -> None:
        """A new plan for the case is the review of every earlier one that came back."""
        await self.conn.execute(
            "UPDATE plan_reviews SET reviewed_at = $3 WHERE case_id = $1 AND plan_id <> $2 AND reviewed_at IS NULL",
            case_id,
            plan_id,
            at,
        )

    async def open_review(
        self, plan_id: UUID, case_id: UUID, *, review_on: date, due_at: datetime, overdue_at: datetime
    ) -> None:
        """Keep a plan's review as open (a redelivered opening changes nothing)."""
        await self.conn.execute(
            "INSERT INTO plan_reviews (plan_id, case_id, review_on, due_at, overdue_at) VALUES ($1, $2, $3, $4, $5)"
            " ON CONFLICT (plan_id) DO NOTHING",
            plan_id,
            case_id,
            review_on,
            due_at,
            overdue_at,
        )

    # Outreach engagements (services/referral/outreach.py has their rules, engagements.py their steps).

    async def open_outreach(
        self,
        outreach_id: UUID,
        *,
        case_id: UUID,
        holder: str,
        partner: str | None,
        plan_id: UUID | None,
        now: datetime,
        quiet_until: datetime,
    ) -> asyncpg.Record | None:
        """Keep a new engagement, attempting from `now`; None when one with this id is kept already."""
        return await self.conn.fetchrow(
            "INSERT INTO outreach (outreach_id, case_id, holder, partner, plan_id, state, started_at, quiet_until)"
            " VALUES ($1, $2, $3, $4, $5, 'attempting', $6, $7) ON CONFLICT DO NOTHING RETURNING *",
            outreach_id,
            case_id,
            holder,
            partner,
            plan_id,
            now,
            quiet_until,
        )

    async def outreach_for_update(self, outreach_id: UUID) -> asyncpg.Record | None:
        """The engagement, locked until the transaction ends; None if there is none."""
        return await self.conn.fetchrow("SELECT * FROM outreach WHERE outreach_id = $1 FOR UPDATE", outreach_id)

    async def add_attempt(
        self,
        outreach_id: UUID,
        attempt: int,
        *,
        at: datetime,
        method: OutreachMethod | None,
        result: OutreachResult | None,
        agency: str,
        by_staff: str | None,
        note: str | None,
        quiet_until: datetime,
    ) -> asyncpg.Record:
        """Keep the engagement's `attempt`th contact attempt; the engagement as it now stands."""
        await self.conn.execute(
            "INSERT INTO outreach_attempts (outreach_id, attempt, at, method, result, agency, by_staff, note)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            outreach_id,
            attempt,
            at,
            method,
            result,
            agency,
            by_staff,
            note,
        )
        changed = await self.conn.fetchrow(
            "UPDATE outreach SET attempts = $2, last_attempt_at = $3, quiet_until = $4 WHERE outreach_id = $1"
            " RETURNING *",
            outreach_id,
            attempt,
            at,
            quiet_until,
        )
        assert changed is not None  # the engagement is locked by outreach_for_update
        return changed

    async def save_outreach_step(
        self,
        outreach_id: UUID,
        step: Step,
        state: str,
        *,
        at: datetime,
        ending: OutreachEnding | None,
        end_note: str | None,
    ) -> asyncpg.Record:
        """Keep a contact, a consent or the ending, and the state it leads to; the engagement as it now stands."""
        column = {Step.CONTACT: "contact_at", Step.CONSENT: "consent_at", Step.END: "ended_at"}[step]
        changed = await self.conn.fetchrow(
            f"UPDATE outreach SET state = $2, {column} = $3, ending = coalesce($4, ending),"  # noqa: S608 - a column name from the table above
            " end_note = coalesce($5, end_note) WHERE outreach_id = $1 RETURNING *",
            outreach_id,
            state,
            at,
            ending,
            end_note,
        )
        assert changed is not None  # the engagement is locked by outreach_for_update
        return changed

    async def first_district(self, case_id: UUID) -> District | None:
        """The district of the case's first referral; None before it has one."""
        district = await self.conn.fetchval(
            "SELECT district FROM referrals WHERE case_id = $1 ORDER BY created_at LIMIT 1", case_id
        )
        return District(district) if district else None


def _referral(row: asyncpg.Record) -> Referral:
    return Referral(
        referral_id=row["referral_id"],
        case_id=row["case_id"],
        consultation_id=row["consultation_id"],
        from_agency=row["from_agency"],
        to_agency=row["to_agency"],
        state=State(row["state"]),
        attempt=row["attempt"],
        district=District(row["district"]),
        domains=tuple(SupportDomain(d) for d in row["domains"]),
        urgency=Urgency(row["urgency"]),
        respond_by=row["respond_by"],
        person_id=row["about_person"],
        escalation_level=row["escalation_level"],
    )
