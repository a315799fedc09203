"""Referral's handlers over the fake store: load, decide, save, and what follows (the next proposal, the case's
lead, the timers, the queue), in milliseconds and without Kafka or PostgreSQL. The fake keeps the real store's
contract (tests/integration/test_referral_store.py); delivery and crash recovery are proven end to end elsewhere."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from backbone import directory
from backbone.agencies import Agency
from backbone.outbox import Outbox
from schemas.envelope import Envelope
from schemas.events import (
    CaseLeadAssigned,
    ConsultationReceived,
    CoordinationRequested,
    DeclineReason,
    ReferralDeclined,
    ReferralDeclinedV2,
    ReferralEscalated,
    ReferralProposed,
)
from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral.casework import Casework, Need
from services.referral.decisions import Accept, Decline
from services.referral.lifecycle import State
from services.referral.policy import ReferralPolicy
from tests.unit.referral.fakes import FakeStore

DIRECTORY = directory.load()
CASEWORK = Casework(DIRECTORY, ReferralPolicy(), Outbox(source="/referral"))
NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def need(*domains: SupportDomain) -> Need:
    return Need(
        case_id=uuid.uuid4(),
        consultation_id=uuid.uuid4(),
        from_agency="chiku-fukushi-zengyo",
        district=District.ZENGYO,
        domains=domains or (SupportDomain.ELDERLY,),
        urgency=Urgency.NORMAL,
    )


def consultation(n: Need) -> Envelope:
    return Envelope(
        id=uuid.uuid4(), source="/intake", type=ConsultationReceived.TYPE, time=NOW, correlationid=str(n.case_id)
    )


def by(agency_id: str) -> Agency:
    return Agency(agency_id, DIRECTORY.agencies[agency_id].type)


async def opened(store: FakeStore, n: Need) -> ReferralProposed:
    await CASEWORK.open_case(store, n, caused_by=consultation(n), now=NOW)
    proposals = [
        e for e in store.events(ReferralProposed) if isinstance(e, ReferralProposed) and e.case_id == n.case_id
    ]
    return proposals[-1]


async def test_a_consultation_opens_its_case_and_proposes_the_first_candidate_with_a_deadline() -> None:
    store, n = FakeStore(), need()
    cause = consultation(n)
    await CASEWORK.open_case(store, n, caused_by=cause, now=NOW)
    assert await store.case(n.case_id) is not None
    (envelope, event), *_ = store.recorded
    assert isinstance(event, ReferralProposed) and event.attempt == 1 and event.district is District.ZENGYO
    assert envelope.causationid == str(cause.id)
    (due,) = await store.due_timers(event.respond_by, limit=10)
    assert due.referral_id == event.referral_id and due.timer.kind == "overdue"


async def test_a_decline_proposes_the_next_candidate_caused_by_the_decline() -> None:
    store, n = FakeStore(), need()
    first = await opened(store, n)
    assert await CASEWORK.act(
        store, first.referral_id, Decline(CASEWORK.actor(by(first.to_agency)), DeclineReason.NO_CAPACITY), now=NOW
    )
    (v1,) = [e for _, e in store.recorded if isinstance(e, ReferralDeclined)]
    (v2_envelope, v2) = next((env, e) for env, e in store.recorded if isinstance(e, ReferralDeclinedV2))
    assert v2 == ReferralDeclinedV2.from_v1(v1)  # both versions, while readers move (the deprecation window)
    envelope, second = store.recorded[-1]
    assert isinstance(second, ReferralProposed) and second.attempt == 2 and second.to_agency != first.to_agency
    assert envelope.causationid == str(v2_envelope.id)  # caused by the version that stays
    assert store.referrals[first.referral_id].answer is not None


async def test_when_every_candidate_declines_the_case_waits_in_the_coordination_queue() -> None:
    store, n = FakeStore(), need()
    proposal = await opened(store, n)
    for _ in range(20):  # bounded: the district's candidates are few
        command = Decline(CASEWORK.actor(by(proposal.to_agency)), DeclineReason.OUTSIDE_AREA)
        await CASEWORK.act(store, proposal.referral_id, command, now=NOW)
        latest = store.events()[-1]
        if not isinstance(latest, ReferralProposed):
            break
        proposal = latest
    asked = store.events(CoordinationRequested)[-1]
    assert isinstance(asked, CoordinationRequested) and asked.reason == "no-agency-accepted"
    case = await store.case(n.case_id)
    assert case is not None and case.queued_at == NOW and case.lead_agency is None


async def test_the_first_acceptance_makes_the_lead_and_a_second_makes_none() -> None:
    store, n = FakeStore(), need(SupportDomain.ELDERLY, SupportDomain.POVERTY)
    first = await opened(store, n)
    await CASEWORK.act(store, first.referral_id, Accept(CASEWORK.actor(by(first.to_agency))), now=NOW)
    await CASEWORK.act(store, first.referral_id, Accept(CASEWORK.actor(by(first.to_agency))), now=NOW)  # a repeat
    (lead,) = store.events(CaseLeadAssigned)
    assert isinstance(lead, CaseLeadAssigned) and lead.lead_agency == first.to_agency
    assert store.referrals[first.referral_id].referral.state is State.ACCEPTED


async def test_an_unknown_referral_is_no_referral() -> None:
    assert not await CASEWORK.act(FakeStore(), uuid.uuid4(), Accept(CASEWORK.actor(by("ikiiki-zengyo"))), now=NOW)


async def test_deadlines_climb_from_the_supervisor_to_the_coordinator_and_queue_the_case() -> None:
    store, n = FakeStore(), need()
    proposal = await opened(store, n)
    later = proposal.respond_by + timedelta(minutes=1)
    for due in await store.due_timers(later, limit=10):
        await CASEWORK.fire(store, due, now=later)
    (first,) = store.events(ReferralEscalated)
    assert isinstance(first, ReferralEscalated) and first.level == 1
    much_later = later + timedelta(days=10)
    for due in await store.due_timers(much_later, limit=10):
        await CASEWORK.fire(store, due, now=much_later)
    levels = [e.level for e in store.events(ReferralEscalated) if isinstance(e, ReferralEscalated)]
    assert levels == [1, 2]
    case = await store.case(n.case_id)
    assert case is not None and case.queued_at == much_later
    assert await store.due_timers(much_later, limit=10) == []  # each fired once
