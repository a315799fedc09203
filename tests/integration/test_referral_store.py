"""One contract suite for referral's store, run against the fake the fast tests use (tests/unit/referral/fakes.py)
and against the real PostgreSQL store, so that what casework is tested against cannot drift from what it runs on.
Each real case runs in a transaction that is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from backbone.directory import Capacity
from schemas.events import CaseLeadAssigned
from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral.decisions import Answer, Escalation, Referral, Timer
from services.referral.lifecycle import State
from services.referral.routing import PLAN_RULES, SUPPORT_PLAN
from services.referral.store import PostgresStore, Proposal, ReferralStore
from tests.integration.stores import fake_and_real
from tests.unit.referral.fakes import FakeStore

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


@pytest.fixture(params=["fake", "postgres"])
async def store(request: pytest.FixtureRequest, pool: asyncpg.Pool) -> AsyncIterator[ReferralStore]:
    async for each in fake_and_real(request, pool, FakeStore, PostgresStore, service="referral"):
        yield each


def a_referral(
    *, case_id: uuid.UUID | None = None, consultation_id: uuid.UUID | None = None, **changes: object
) -> Referral:
    referral = Referral(
        referral_id=uuid.uuid4(),
        case_id=case_id or uuid.uuid4(),
        consultation_id=consultation_id or uuid.uuid4(),
        from_agency="chiku-fukushi-zengyo",
        to_agency="ikiiki-zengyo",
        state=State.PROPOSED,
        attempt=1,
        district=District.ZENGYO,
        domains=(SupportDomain.ELDERLY,),
        urgency=Urgency.NORMAL,
        respond_by=NOW + timedelta(days=3),
        person_id=uuid.uuid4(),
    )
    return replace(referral, **changes)  # type: ignore[arg-type]


async def proposed(store: ReferralStore, referral: Referral, rule: str = "district-domain") -> Referral:
    await store.open_case(referral.case_id)
    await store.add_referral(Proposal(referral, rule, "because", False, uuid.uuid4(), uuid.uuid4()))
    return referral


async def test_a_proposed_referral_reads_back_as_it_was_stored_with_its_overdue_timer(store: ReferralStore) -> None:
    referral = await proposed(store, a_referral())
    assert await store.referral_for_update(referral.referral_id) == referral
    assert await store.referral_for_update(uuid.uuid4()) is None
    mine = [d for d in await store.due_timers(referral.respond_by, limit=1000) if d.referral_id == referral.referral_id]
    assert [d.timer for d in mine] == [Timer("overdue", referral.respond_by)]
    early = await store.due_timers(referral.respond_by - timedelta(seconds=1), limit=1000)
    assert referral.referral_id not in {d.referral_id for d in early}


async def test_a_fired_timer_is_due_no_more(store: ReferralStore) -> None:
    referral = await proposed(store, a_referral())
    await store.add_timer(referral.referral_id, Timer("coordinator", referral.respond_by + timedelta(hours=4)))
    later = referral.respond_by + timedelta(days=1)
    mine = [d for d in await store.due_timers(later, limit=1000) if d.referral_id == referral.referral_id]
    assert [d.timer.kind for d in mine] == ["overdue", "coordinator"]  # oldest first
    await store.mark_fired(mine[0].timer_id, later)
    left = [d for d in await store.due_timers(later, limit=1000) if d.referral_id == referral.referral_id]
    assert [d.timer.kind for d in left] == ["coordinator"]


async def test_an_answer_and_an_escalation_change_what_is_read_back(store: ReferralStore) -> None:
    referral = await proposed(store, a_referral())
    await store.save_escalation(referral.referral_id, Escalation(level=1, overdue_at=NOW))
    await store.save_escalation(referral.referral_id, Escalation(level=2))
    await store.save_answer(referral.referral_id, Answer(State.ACCEPTED, at=NOW))
    again = await store.referral_for_update(referral.referral_id)
    assert again == replace(referral, state=State.ACCEPTED, escalation_level=2)


async def test_a_case_gets_one_lead_and_leaves_the_queue_for_it(store: ReferralStore) -> None:
    referral = await proposed(store, a_referral())
    case_id = referral.case_id
    assert await store.case(case_id) == await store.case(case_id) is not None
    await store.queue(case_id, "no agency accepted", NOW)
    await store.queue(case_id, "escalated", NOW + timedelta(hours=1))
    queued = await store.case(case_id)
    assert queued is not None and queued.queued_at == NOW and queued.queue_reason == "escalated"
    assert queued.lead_agency is None
    assert await store.assign_lead(case_id, "ikiiki-zengyo", referral.referral_id)
    assert not await store.assign_lead(case_id, "csw-zengyo", uuid.uuid4())
    led = await store.case(case_id)
    assert led is not None and (led.lead_agency, led.lead_referral_id) == ("ikiiki-zengyo", referral.referral_id)
    assert led.queued_at is None and led.queue_reason is None
    await store.queue(case_id, "too late", NOW)  # a led case is never queued
    assert await store.case(case_id) == led
    assert await store.case(uuid.uuid4()) is None


async def test_reported_capacities_are_kept_until_withdrawn(store: ReferralStore) -> None:
    agency = f"test-agency-{uuid.uuid4().hex[:8]}"
    await store.report_capacity(agency, Capacity.WAITLIST)
    await store.report_capacity(agency, Capacity.NONE)
    assert (await store.capacities())[agency] is Capacity.NONE
    await store.withdraw_capacity(agency)
    assert agency not in await store.capacities()


async def test_the_routes_a_consultation_took_and_a_households_other_needs(store: ReferralStore) -> None:
    case_id, consultation, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    first = await proposed(store, a_referral(case_id=case_id, consultation_id=consultation))
    await proposed(store, a_referral(case_id=case_id, consultation_id=consultation, to_agency="csw-zengyo", attempt=2))
    await proposed(store, a_referral(case_id=case_id, consultation_id=other, domains=(SupportDomain.POVERTY,)))
    plan_role = a_referral(case_id=case_id, domains=(SupportDomain.DISABILITY,))
    await proposed(store, plan_role, rule=SUPPORT_PLAN)
    routes = await store.earlier_routes(consultation)
    assert sorted(routes) == [("csw-zengyo", "district-domain"), (first.to_agency, "district-domain")]
    besides_other = await store.household_domains(case_id, besides=other, plan_rules=PLAN_RULES)
    assert besides_other == {"elderly"}  # the first attempt only; a plan's role is not a need
    assert await store.household_domains(case_id, besides=consultation, plan_rules=PLAN_RULES) == {"poverty"}


async def test_recorded_events_carry_their_cause_and_the_id_asked_for(store: ReferralStore) -> None:
    referral = await proposed(store, a_referral())
    event = CaseLeadAssigned(
        case_id=referral.case_id, lead_agency="ikiiki-zengyo", referral_id=referral.referral_id, assigned_at=NOW
    )
    cause = await store.record(event)
    wanted = uuid.uuid4()
    effect = await store.record(event, caused_by=cause, event_id=wanted)
    assert effect.id == wanted and effect.causationid == str(cause.id)
    assert effect.type == CaseLeadAssigned.TYPE and effect.correlationid == str(referral.case_id)
