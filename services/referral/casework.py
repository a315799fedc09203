"""Referral casework: handlers that load from the store, decide (decisions.py, routing.py) and save.

Every method runs inside the caller's transaction on the store it is given, and records its events through it,
so a step and its events commit together. The decisions themselves are pure functions: `decisions.decide` and
`decide_timer` for a referral's lifecycle and deadlines, routing for whom to propose, policy for deadlines.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID, uuid4

from backbone.agencies import Agency
from backbone.db import Connection
from backbone.directory import Directory
from backbone.outbox import Outbox
from schemas.envelope import Envelope
from schemas.events import CaseLeadAssigned, CoordinationRequested, ReferralProposed
from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral.decisions import (
    Actor,
    AssignLead,
    Command,
    Decision,
    Escalation,
    ProposeNext,
    Queue,
    Referral,
    SetTimer,
    Timer,
    decide,
    decide_timer,
)
from services.referral.lifecycle import State
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
from services.referral.store import DueTimer, PostgresStore, Proposal, ReferralStore


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

    @classmethod
    def of(cls, referral: Referral) -> Need:
        """The need a referral answered, to propose the next candidate for it."""
        return cls(
            case_id=referral.case_id,
            consultation_id=referral.consultation_id,
            from_agency=referral.from_agency,
            district=referral.district,
            domains=referral.domains,
            urgency=referral.urgency,
            person_id=referral.person_id,
        )


@dataclass(frozen=True)
class Casework:
    directory: Directory
    policy: ReferralPolicy
    outbox: Outbox

    def on(self, conn: Connection) -> PostgresStore:
        """The store in the transaction open on `conn`, recording events through this service's outbox."""
        return PostgresStore(conn, self.outbox)

    async def current_directory(self, store: ReferralStore) -> Directory:
        """The directory with the capacities agencies have reported since it was loaded."""
        directory = self.directory
        for agency_id, capacity in (await store.capacities()).items():
            if agency_id in directory.agencies:
                directory = directory.with_capacity(agency_id, capacity)
        return directory

    def actor(self, agency: Agency) -> Actor:
        """The acting agency as decisions see it: whether it coordinates, which places it answers for."""
        entry = self.directory.agency(agency.id)
        return Actor(
            agency=agency.id,
            by_staff=agency.by_staff,
            coordinator=entry is not None and entry.coordinator,
            answers_for=self.directory.answered_for(agency.id),
        )

    async def open_case(self, store: ReferralStore, need: Need, *, caused_by: Envelope, now: datetime) -> None:
        """A consultation arrived: propose the first agency, and ask for coordination when the case needs it."""
        await store.open_case(need.case_id)
        household = await self._household_needs(store, need) if need.household_id else ()
        proposed = await self.propose(store, need, attempt=1, caused_by=caused_by, now=now)
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
        directory = await self.current_directory(store)
        await self._request_coordination(
            store, replace(need, domains=together), directory, lead=proposed, reason=reason, now=now
        )

    async def _household_needs(self, store: ReferralStore, need: Need) -> tuple[SupportDomain, ...]:
        """What the household's earlier consultations in this case were about (a plan's roles are not needs)."""
        found = await store.household_domains(need.case_id, besides=need.consultation_id, plan_rules=PLAN_RULES)
        return tuple(SupportDomain(domain) for domain in sorted(found))

    async def propose(
        self, store: ReferralStore, need: Need, *, attempt: int, caused_by: Envelope, now: datetime
    ) -> str | None:
        """Propose the best agency not yet tried; when none is left the case joins the coordination queue."""
        directory = await self.current_directory(store)
        earlier = await store.earlier_routes(need.consultation_id)
        tried = frozenset(agency for agency, _ in earlier)
        participation = any(rule == PARTICIPATION for _, rule in earlier)
        route = next(
            iter(candidates(directory, need.district, need.domains, excluded=tried, participation=participation)),
            None,
        )
        return await self.propose_to(store, need, route, attempt=attempt, caused_by=caused_by, now=now)

    async def propose_to(
        self, store: ReferralStore, need: Need, route: Route | None, *, attempt: int, caused_by: Envelope, now: datetime
    ) -> str | None:
        """Propose the referral along `route`; with no route the case joins the coordination queue."""
        if route is None:
            directory = await self.current_directory(store)  # capacities are read only when they matter
            await store.queue(need.case_id, "no agency accepted: every candidate declined or has no capacity", now)
            coordinator = lead_coordinator(directory)
            await self._request_coordination(
                store, need, directory, lead=coordinator, reason="no-agency-accepted", now=now
            )
            return None
        referral = Referral(
            referral_id=uuid4(),
            case_id=need.case_id,
            consultation_id=need.consultation_id,
            from_agency=need.from_agency,
            to_agency=route.agency,
            state=State.PROPOSED,
            attempt=attempt,
            district=need.district,
            domains=need.domains,
            urgency=need.urgency,
            respond_by=self.policy.respond_by(now, need.urgency),
            person_id=need.person_id,
        )
        event = ReferralProposed(
            case_id=need.case_id,
            referral_id=referral.referral_id,
            consultation_id=need.consultation_id,
            from_agency=need.from_agency,
            to_agency=route.agency,
            district=need.district,
            domains=need.domains,
            urgency=need.urgency,
            routing_rule=route.rule,
            respond_by=referral.respond_by,
            reason=route.reason,
            attempt=attempt,
            waitlisted=route.waitlisted,
            person_id=need.person_id,
        )
        event_id = uuid4()
        await store.add_referral(
            Proposal(
                referral, route.rule, route.reason, route.waitlisted, cause_event_id=caused_by.id, event_id=event_id
            )
        )
        await store.record(event, caused_by=caused_by, event_id=event_id)
        return route.agency

    async def act(self, store: ReferralStore, referral_id: UUID, command: Command, *, now: datetime) -> bool:
        """Carry out an agency's command on a referral; False when there is no such referral.

        Raises lifecycle.NotYourReferralError and lifecycle.InvalidTransitionError; a repeat changes nothing.
        """
        referral = await store.referral_for_update(referral_id)
        if referral is None:
            return False
        decision = decide(referral, command, now, leads=not self.directory.is_place(referral.to_agency))
        await self._carry_out(store, referral, decision, now=now)
        return True

    async def fire(self, store: ReferralStore, due: DueTimer, *, now: datetime) -> None:
        """A deadline passed: an unanswered referral is overdue and climbs; an answered one lets the timer go."""
        await store.mark_fired(due.timer_id, now)
        referral = await store.referral_for_update(due.referral_id)
        if referral is None:
            return
        coordinator = lead_coordinator(self.directory)  # who coordinates does not depend on reported capacities
        decision = decide_timer(referral, due.timer, now, policy=self.policy, coordinator=coordinator)
        await self._carry_out(store, referral, decision, now=now)

    async def _carry_out(self, store: ReferralStore, referral: Referral, decision: Decision, *, now: datetime) -> None:
        """Save what was decided, record its events, then carry out what follows from it."""
        if decision.change is not None:
            if isinstance(decision.change, Escalation):
                await store.save_escalation(referral.referral_id, decision.change)
            else:
                await store.save_answer(referral.referral_id, decision.change)
        cause: Envelope | None = None
        for event in decision.events:
            cause = await store.record(event)
        for follow_up in decision.then:
            match follow_up:
                case AssignLead(case_id=case_id, agency=agency, referral_id=referral_id):
                    if await store.assign_lead(case_id, agency, referral_id):
                        await store.record(
                            CaseLeadAssigned(
                                case_id=case_id, lead_agency=agency, referral_id=referral_id, assigned_at=now
                            )
                        )
                case ProposeNext(referral=answered, attempt=attempt):
                    assert cause is not None, "a proposal follows the decision's own event"
                    await self.propose(store, Need.of(answered), attempt=attempt, caused_by=cause, now=now)
                case SetTimer(kind=kind, due_at=due_at):
                    await store.add_timer(referral.referral_id, Timer(kind, due_at))
                case Queue(case_id=case_id, reason=reason):
                    await store.queue(case_id, reason, now)

    async def _request_coordination(
        self, store: ReferralStore, need: Need, directory: Directory, *, lead: str, reason: str, now: datetime
    ) -> None:
        coordinator = lead if (entry := directory.agency(lead)) and entry.coordinator else lead_coordinator(directory)
        await store.record(
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
