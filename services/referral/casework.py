"""Referral casework against the database: proposing, acting, and the case's lead or queue place.

Every function runs inside the caller's transaction and writes its events through the outbox, so a
step and its events commit together. The decisions themselves are the pure functions of routing,
lifecycle and policy.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from backbone.agencies import Agency
from backbone.db import Connection
from backbone.directory import Capacity, Directory
from backbone.outbox import Outbox
from backbone.telemetry import current_trace_id
from schemas.envelope import Envelope
from schemas.events import (
    CaseLeadAssigned,
    CoordinationRequested,
    DeclineReason,
    ReferralAccepted,
    ReferralAction,
    ReferralCancelled,
    ReferralCancelReason,
    ReferralCompleted,
    ReferralDeclined,
    ReferralEscalated,
    ReferralOverdue,
    ReferralProposed,
    ReferralStarted,
)
from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral.lifecycle import (
    BY_REFERRED_AGENCY,
    Action,
    NotYourReferralError,
    State,
    may_act,
    transition,
)
from services.referral.policy import ReferralPolicy
from services.referral.routing import (
    PARTICIPATION,
    PLAN_RULES,
    Route,
    candidates,
    lead_coordinator,
    needs_coordination,
    participants,
)


@dataclass(frozen=True)
class Need:
    """What one consultation needs: the facts routing works from."""

    case_id: UUID
    consultation_id: UUID
    from_agency: str
    district: District
    domains: tuple[SupportDomain, ...]
    urgency: Urgency
    person_id: UUID | None = None
    """Whom the referral is about (intake's opaque id); None for a plan's roles, which are about the case."""
    household_id: UUID | None = None
    """The household whose case the consultation joined: routing then sees the members' needs together."""


@dataclass(frozen=True)
class Casework:
    directory: Directory
    policy: ReferralPolicy
    outbox: Outbox

    async def current_directory(self, conn: Connection) -> Directory:
        """The directory with the capacities agencies have reported since it was loaded."""
        directory = self.directory
        for row in await conn.fetch("SELECT agency_id, capacity FROM capacities"):
            if row["agency_id"] in directory.agencies:
                directory = directory.with_capacity(row["agency_id"], Capacity(row["capacity"]))
        return directory

    async def open_case(self, conn: Connection, need: Need, *, caused_by: Envelope, now: datetime) -> None:
        """A consultation arrived: propose the first agency, and ask for coordination when the case needs it."""
        await conn.execute("INSERT INTO cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", need.case_id)
        household = await self._household_needs(conn, need) if need.household_id else ()
        proposed = await self.propose(conn, need, attempt=1, caused_by=caused_by, now=now)
        if proposed is None:
            return
        together = tuple(domain for domain in SupportDomain if domain in {*household, *need.domains})
        if needs_coordination(need.domains):
            reason = "multi-domain" if len(need.domains) > 1 else "coordination-theme"
        elif household and not needs_coordination(household) and needs_coordination(together):
            reason = "household"
        else:
            return
        # Around the table sit the agencies of the whole household's needs, not only this member's (多機関協働).
        directory = await self.current_directory(conn)
        await self._request_coordination(
            conn, replace(need, domains=together), directory, lead=proposed, reason=reason, now=now
        )

    async def _household_needs(self, conn: Connection, need: Need) -> tuple[SupportDomain, ...]:
        """What the household's earlier consultations in this case were about (a plan's roles are not needs)."""
        rows = await conn.fetch(
            "SELECT DISTINCT unnest(domains) AS domain FROM referrals WHERE case_id = $1 AND attempt = 1"
            " AND routing_rule <> ALL($2::text[]) AND consultation_id <> $3",
            need.case_id,
            list(PLAN_RULES),
            need.consultation_id,
        )
        return tuple(SupportDomain(row["domain"]) for row in rows)

    async def propose(
        self, conn: Connection, need: Need, *, attempt: int, caused_by: Envelope, now: datetime
    ) -> str | None:
        """Propose the best agency not yet tried; when none is left the case joins the coordination queue."""
        directory = await self.current_directory(conn)
        earlier = await conn.fetch(
            "SELECT to_agency, routing_rule FROM referrals WHERE consultation_id = $1", need.consultation_id
        )
        tried = frozenset(row["to_agency"] for row in earlier)
        participation = any(row["routing_rule"] == PARTICIPATION for row in earlier)
        route = next(
            iter(candidates(directory, need.district, need.domains, excluded=tried, participation=participation)),
            None,
        )
        return await self.propose_to(conn, need, route, attempt=attempt, caused_by=caused_by, now=now)

    async def propose_to(
        self, conn: Connection, need: Need, route: Route | None, *, attempt: int, caused_by: Envelope, now: datetime
    ) -> str | None:
        """Propose the referral along `route`; with no route the case joins the coordination queue."""
        if route is None:
            directory = await self.current_directory(conn)  # capacities are read only when they matter
            await self.queue(
                conn, need.case_id, "no agency accepted: every candidate declined or has no capacity", now=now
            )
            coordinator = lead_coordinator(directory)
            await self._request_coordination(
                conn, need, directory, lead=coordinator, reason="no-agency-accepted", now=now
            )
            return None
        referral_id, event_id = uuid4(), uuid4()
        respond_by = self.policy.respond_by(now, need.urgency)
        event = ReferralProposed(
            case_id=need.case_id,
            referral_id=referral_id,
            consultation_id=need.consultation_id,
            from_agency=need.from_agency,
            to_agency=route.agency,
            district=need.district,
            domains=need.domains,
            urgency=need.urgency,
            routing_rule=route.rule,
            respond_by=respond_by,
            reason=route.reason,
            attempt=attempt,
            waitlisted=route.waitlisted,
            person_id=need.person_id,
        )
        await conn.execute(
            "INSERT INTO referrals (referral_id, case_id, consultation_id, from_agency, to_agency, district, domains,"
            " urgency, routing_rule, respond_by, cause_event_id, event_id, trace_id, attempt, reason, waitlisted,"
            " about_person) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            referral_id,
            need.case_id,
            need.consultation_id,
            need.from_agency,
            route.agency,
            need.district,
            list(need.domains),
            need.urgency,
            route.rule,
            respond_by,
            caused_by.id,
            event_id,
            current_trace_id(),
            attempt,
            route.reason,
            route.waitlisted,
            need.person_id,
        )
        await conn.execute(
            "INSERT INTO referral_timers (referral_id, kind, due_at) VALUES ($1, 'overdue', $2)",
            referral_id,
            respond_by,
        )
        await self.outbox.add(conn, event, caused_by=caused_by, event_id=event_id)
        return route.agency

    async def act(
        self,
        conn: Connection,
        referral_id: UUID,
        action: Action,
        agency: Agency,
        *,
        now: datetime,
        reason: DeclineReason | None = None,
        cancel_reason: ReferralCancelReason | None = None,
        note: str = "",
        outcome: str | None = None,
    ) -> asyncpg.Record | None:
        """Apply an agency's action; returns the referral as it now stands, or None when it does not exist.

        A decline publishes its `reason`, a cancellation its `cancel_reason`; the agency's `note` beside
        either is kept with the referral and never published. Raises NotYourReferralError and
        lifecycle.InvalidTransitionError; a repeat changes nothing.
        """
        row = await conn.fetchrow("SELECT * FROM referrals WHERE referral_id = $1 FOR UPDATE", referral_id)
        if row is None:
            return None
        directory = await self.current_directory(conn)
        coordinator = (entry := directory.agency(agency.id)) is not None and entry.coordinator
        if not may_act(
            action,
            agency=agency.id,
            to_agency=row["to_agency"],
            from_agency=row["from_agency"],
            is_coordinator=coordinator,
            answers_for_it=directory.answers_for(agency.id, row["to_agency"]),
        ):
            raise NotYourReferralError
        new_state = transition(State(row["state"]), action)
        if new_state is None:
            return row
        answered_for = row["to_agency"] if agency.id != row["to_agency"] and action in BY_REFERRED_AGENCY else None
        common = {
            "case_id": row["case_id"],
            "referral_id": referral_id,
            "agency": agency.id,
            "at": now,
            "by_staff": agency.by_staff,
            "on_behalf_of": answered_for,
        }
        event: ReferralAction
        decline_code: DeclineReason | None = None
        cancel_code: ReferralCancelReason | None = None
        if action is Action.ACCEPT:
            event = ReferralAccepted(**common)
        elif action is Action.START:
            event = ReferralStarted(**common)
        elif action is Action.COMPLETE:
            event = ReferralCompleted(**common, outcome=outcome or "resolved")
        elif action is Action.DECLINE:
            decline_code = reason or DeclineReason.OTHER
            event = ReferralDeclined(**common, reason=decline_code)
        else:
            cancel_code = cancel_reason or ReferralCancelReason.OTHER
            event = ReferralCancelled(**common, reason=cancel_code)
        words = note or None  # the agency's own, kept with the referral: the event carries only the code
        updated = await conn.fetchrow(
            "UPDATE referrals SET state = $2, updated_at = $3, decline_reason = coalesce($4, decline_reason),"
            " decline_note = coalesce($5, decline_note), outcome = coalesce($6, outcome),"
            " cancel_reason = coalesce($7, cancel_reason), cancel_note = coalesce($8, cancel_note)"
            " WHERE referral_id = $1 RETURNING *",
            referral_id,
            new_state,
            now,
            decline_code,
            words if decline_code else None,
            outcome,
            cancel_code,
            words if cancel_code else None,
        )
        envelope = await self.outbox.add(conn, event)
        if action is Action.ACCEPT and not directory.is_place(row["to_agency"]):  # a place takes part, never leads
            await self._assign_lead(conn, row["case_id"], row["to_agency"], referral_id, now=now)
        if action is Action.DECLINE:
            await self.propose(conn, _need_of(row), attempt=row["attempt"] + 1, caused_by=envelope, now=now)
        return updated

    async def _assign_lead(
        self, conn: Connection, case_id: UUID, agency: str, referral_id: UUID, *, now: datetime
    ) -> None:
        assigned = await conn.fetchval(
            "UPDATE cases SET lead_agency = $2, lead_referral_id = $3, queued_at = NULL, queue_reason = NULL"
            " WHERE case_id = $1 AND lead_agency IS NULL RETURNING true",
            case_id,
            agency,
            referral_id,
        )
        if assigned:
            await self.outbox.add(
                conn, CaseLeadAssigned(case_id=case_id, lead_agency=agency, referral_id=referral_id, assigned_at=now)
            )

    async def queue(self, conn: Connection, case_id: UUID, reason: str, *, now: datetime) -> None:
        await conn.execute(
            "UPDATE cases SET queued_at = coalesce(queued_at, $2), queue_reason = $3"
            " WHERE case_id = $1 AND lead_agency IS NULL",
            case_id,
            now,
            reason,
        )

    async def _request_coordination(
        self, conn: Connection, need: Need, directory: Directory, *, lead: str, reason: str, now: datetime
    ) -> None:
        coordinator = lead if (entry := directory.agency(lead)) and entry.coordinator else lead_coordinator(directory)
        await self.outbox.add(
            conn,
            CoordinationRequested(
                case_id=need.case_id,
                district=need.district,
                domains=need.domains,
                urgency=need.urgency,
                coordinator=coordinator,
                participants=participants(directory, need.district, need.domains, lead),
                reason=reason,
                requested_at=now,
            ),
        )


def _need_of(row: asyncpg.Record) -> Need:
    return Need(
        case_id=row["case_id"],
        consultation_id=row["consultation_id"],
        from_agency=row["from_agency"],
        district=District(row["district"]),
        domains=tuple(SupportDomain(d) for d in row["domains"]),
        urgency=Urgency(row["urgency"]),
        person_id=row["about_person"],
    )


async def fire_timer(casework: Casework, conn: Connection, timer: asyncpg.Record, *, now: datetime) -> None:
    """A deadline passed: an unanswered referral is overdue and climbs; an answered one lets the timer go."""
    await conn.execute("UPDATE referral_timers SET fired_at = $2 WHERE timer_id = $1", timer["timer_id"], now)
    referral = await conn.fetchrow("SELECT * FROM referrals WHERE referral_id = $1 FOR UPDATE", timer["referral_id"])
    if referral is None or referral["state"] != State.PROPOSED:
        return
    case_id, referral_id, urgency = referral["case_id"], referral["referral_id"], Urgency(referral["urgency"])
    outbox = casework.outbox
    if timer["kind"] == "overdue":
        await conn.execute(
            "UPDATE referrals SET overdue_at = $2, escalation_level = 1 WHERE referral_id = $1", referral_id, now
        )
        await outbox.add(
            conn,
            ReferralOverdue(
                case_id=case_id,
                referral_id=referral_id,
                to_agency=referral["to_agency"],
                respond_by=referral["respond_by"],
                detected_at=now,
            ),
        )
        await outbox.add(
            conn,
            ReferralEscalated(
                case_id=case_id,
                referral_id=referral_id,
                level=1,
                to_agency=referral["to_agency"],
                role="supervisor",
                escalated_at=now,
            ),
        )
        await conn.execute(
            "INSERT INTO referral_timers (referral_id, kind, due_at) VALUES ($1, 'coordinator', $2)",
            referral_id,
            casework.policy.coordinator_after(timer["due_at"], urgency),
        )
        return
    directory = await casework.current_directory(conn)
    coordinator = lead_coordinator(directory)
    await conn.execute("UPDATE referrals SET escalation_level = 2 WHERE referral_id = $1", referral_id)
    await outbox.add(
        conn,
        ReferralEscalated(
            case_id=case_id,
            referral_id=referral_id,
            level=2,
            to_agency=coordinator,
            role="coordinator",
            escalated_at=now,
        ),
    )
    await casework.queue(
        conn, case_id, f"referral to {referral['to_agency']} unanswered: escalated to {coordinator}", now=now
    )
