"""Referral's store in memory, for the fast tests of casework: it keeps the promises of
services.referral.store.ReferralStore, and tests/integration/test_referral_store.py runs the same contract suite
against it and the real PostgreSQL store."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from backbone.directory import Capacity
from backbone.telemetry import current_traceparent
from services.referral.decisions import Answer, Escalation, Referral, Timer
from services.referral.store import Case, DueTimer, Proposal
from tests.unit.fakes import RecordingFake


@dataclass
class Kept:
    """A referral as the fake keeps it: what decisions read, and what the agency gave with its answer."""

    referral: Referral
    routing_rule: str
    answer: Answer | None = None
    overdue_at: datetime | None = None


@dataclass
class FakeStore(RecordingFake):
    cases: dict[UUID, Case] = field(default_factory=dict)
    referrals: dict[UUID, Kept] = field(default_factory=dict)
    timers: dict[int, tuple[UUID, Timer, datetime | None]] = field(default_factory=dict)
    traceparents: dict[int, str | None] = field(default_factory=dict)
    reported: dict[str, Capacity] = field(default_factory=dict)

    # --- cases and capacities ---

    async def open_case(self, case_id: UUID) -> None:
        self.cases.setdefault(case_id, Case(case_id))

    async def case(self, case_id: UUID) -> Case | None:
        return self.cases.get(case_id)

    async def capacities(self) -> dict[str, Capacity]:
        return dict(self.reported)

    async def report_capacity(self, agency_id: str, capacity: Capacity) -> None:
        self.reported[agency_id] = capacity

    async def withdraw_capacity(self, agency_id: str) -> None:
        self.reported.pop(agency_id, None)

    async def assign_lead(self, case_id: UUID, agency: str, referral_id: UUID) -> bool:
        case = self.cases.get(case_id)
        if case is None or case.lead_agency is not None:
            return False
        self.cases[case_id] = Case(case_id, lead_agency=agency, lead_referral_id=referral_id)
        return True

    async def queue(self, case_id: UUID, reason: str, now: datetime) -> None:
        case = self.cases.get(case_id)
        if case is not None and case.lead_agency is None:
            self.cases[case_id] = replace(case, queued_at=case.queued_at or now, queue_reason=reason)

    # --- referrals ---

    async def earlier_routes(self, consultation_id: UUID) -> list[tuple[str, str]]:
        return [
            (kept.referral.to_agency, kept.routing_rule)
            for kept in self.referrals.values()
            if kept.referral.consultation_id == consultation_id
        ]

    async def household_domains(self, case_id: UUID, *, besides: UUID, plan_rules: frozenset[str]) -> set[str]:
        return {
            str(domain)
            for kept in self.referrals.values()
            if kept.referral.case_id == case_id
            and kept.referral.attempt == 1
            and kept.routing_rule not in plan_rules
            and kept.referral.consultation_id != besides
            for domain in kept.referral.domains
        }

    async def add_referral(self, proposal: Proposal) -> None:
        referral = proposal.referral
        self.referrals[referral.referral_id] = Kept(referral, proposal.routing_rule)
        await self.add_timer(referral.referral_id, Timer("overdue", referral.respond_by))

    async def referral_for_update(self, referral_id: UUID) -> Referral | None:
        kept = self.referrals.get(referral_id)
        return None if kept is None else kept.referral

    async def save_answer(self, referral_id: UUID, answer: Answer) -> None:
        kept = self.referrals[referral_id]
        kept.referral = replace(kept.referral, state=answer.state)
        kept.answer = answer

    async def save_escalation(self, referral_id: UUID, escalation: Escalation) -> None:
        kept = self.referrals[referral_id]
        kept.referral = replace(kept.referral, escalation_level=escalation.level)
        kept.overdue_at = escalation.overdue_at or kept.overdue_at

    # --- timers ---

    async def add_timer(self, referral_id: UUID, timer: Timer) -> None:
        self.timers[len(self.timers) + 1] = (referral_id, timer, None)
        self.traceparents[len(self.timers)] = current_traceparent()

    async def due_timers(self, now: datetime, *, limit: int) -> list[DueTimer]:
        due = [
            DueTimer(timer_id, referral_id, timer, self.traceparents.get(timer_id))
            for timer_id, (referral_id, timer, fired_at) in self.timers.items()
            if fired_at is None and timer.due_at <= now
        ]
        return sorted(due, key=lambda d: d.timer.due_at)[:limit]

    async def mark_fired(self, timer_id: int, now: datetime) -> None:
        referral_id, timer, _ = self.timers[timer_id]
        self.timers[timer_id] = (referral_id, timer, now)
