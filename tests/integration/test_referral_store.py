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
from opentelemetry.sdk.trace import TracerProvider

from backbone.directory import Capacity
from backbone.outcomes import refusal
from schemas.events import CaseLeadAssigned, OutreachEnding, OutreachMethod, OutreachResult
from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral import reading
from services.referral.decisions import Answer, Escalation, Referral, Timer
from services.referral.lifecycle import Action, State
from services.referral.outreach import Step
from services.referral.routing import PLAN_RULES, SUPPORT_PLAN
from services.referral.store import PostgresStore, Proposal, ReferralStore
from tests.integration.stores import fake_and_real, real_store
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


async def test_a_timer_keeps_the_trace_it_was_set_in_for_its_firing_to_continue(store: ReferralStore) -> None:
    with TracerProvider().get_tracer("tests").start_as_current_span("proposing") as span:
        referral = await proposed(store, a_referral())
    ids = span.get_span_context()
    mine = [d for d in await store.due_timers(referral.respond_by, limit=1000) if d.referral_id == referral.referral_id]
    assert [d.traceparent for d in mine] == [f"00-{ids.trace_id:032x}-{ids.span_id:016x}-{ids.trace_flags:02x}"]
    untraced = await proposed(store, a_referral())  # set outside any span: nothing to continue
    mine = [d for d in await store.due_timers(untraced.respond_by, limit=1000) if d.referral_id == untraced.referral_id]
    assert [d.traceparent for d in mine] == [None]


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


# What only the real store does: the steps that no fast test decides over (an action's outcome, a plan's review,
# an outreach engagement's rows), held here to what their callers rely on.


@pytest.fixture
async def real(pool: asyncpg.Pool) -> AsyncIterator[PostgresStore]:
    async for each in real_store(pool, PostgresStore, service="referral"):
        yield each


async def test_an_actions_outcome_is_kept_once_and_answers_a_retry(real: PostgresStore) -> None:
    referral = await proposed(real, a_referral())
    assert not await real.answered("ikiiki-zengyo", "action-1")
    await real.record_applied("ikiiki-zengyo", "action-1", referral.referral_id, Action.ACCEPT)
    await real.record_applied("ikiiki-zengyo", "action-1", referral.referral_id, Action.DECLINE)  # a retry
    assert await real.answered("ikiiki-zengyo", "action-1")
    applied = await reading.applied_action(real.conn, "ikiiki-zengyo", "action-1")
    assert applied is not None and (applied["referral_id"], applied["action"]) == (referral.referral_id, "accept")
    assert not await real.answered("ikiiki-katase", "action-1")  # the outcome is the sending agency's own
    await real.record_refused("ikiiki-katase", "action-2", '[{"field": "body", "message": "is not UTF-8 JSON"}]')
    assert await real.answered("ikiiki-katase", "action-2")
    refused = await refusal(real.conn, reading.REFUSED_ACTION, agency="ikiiki-katase", record_id="action-2")
    assert refused is not None and refused["reasons"] == [{"field": "body", "message": "is not UTF-8 JSON"}]


async def test_a_plan_review_stays_open_until_the_cases_next_plan(real: PostgresStore) -> None:
    case_id, first, second = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await real.open_case(case_id)
    due = NOW + timedelta(days=1)
    await real.open_review(first, case_id, review_on=due.date(), due_at=due, overdue_at=due + timedelta(days=10))
    await real.open_review(first, case_id, review_on=due.date(), due_at=due, overdue_at=due)  # redelivered
    open_reviews = "SELECT plan_id, overdue_at FROM plan_reviews WHERE case_id = $1 AND reviewed_at IS NULL"
    assert [tuple(r) for r in await real.conn.fetch(open_reviews, case_id)] == [(first, due + timedelta(days=10))]
    await real.review_by_next_plan(case_id, first, NOW)  # the plan under review itself reviews nothing
    assert len(await real.conn.fetch(open_reviews, case_id)) == 1
    await real.review_by_next_plan(case_id, second, NOW)
    assert await real.conn.fetch(open_reviews, case_id) == []


async def test_an_engagement_keeps_its_attempts_and_steps(real: PostgresStore) -> None:
    referral = await proposed(real, a_referral(district=District.KATASE))
    assert await real.first_district(referral.case_id) == District.KATASE
    assert await real.first_district(uuid.uuid4()) is None
    outreach_id = uuid.uuid4()

    async def open_it() -> object:
        return await real.open_outreach(
            outreach_id, case_id=referral.case_id, holder="csw-katase", partner="backup-fujisawa-shakyo",
            plan_id=None, now=NOW, quiet_until=NOW,
        )  # fmt: skip

    assert await open_it() is not None
    assert await open_it() is None  # the same engagement again: kept once
    later = NOW + timedelta(hours=2)
    row = await real.add_attempt(
        outreach_id, 1, at=later, method=OutreachMethod.VISIT, result=OutreachResult.NO_ANSWER,
        agency="csw-katase", by_staff=None, note="留守", quiet_until=later + timedelta(days=14),
    )  # fmt: skip
    assert (row["attempts"], row["last_attempt_at"], row["state"]) == (1, later, "attempting")
    assert [a["note"] for a in await reading.outreach_attempts(real.conn, outreach_id)] == ["留守"]
    row = await real.save_outreach_step(outreach_id, Step.CONTACT, "in-contact", at=later, ending=None, end_note=None)
    assert (row["state"], row["contact_at"], row["ending"]) == ("in-contact", later, None)
    row = await real.save_outreach_step(
        outreach_id, Step.END, "ended", at=later, ending=OutreachEnding.OTHER, end_note="転居"
    )
    assert (row["state"], row["ended_at"], row["ending"], row["end_note"]) == ("ended", later, "other", "転居")
    locked = await real.outreach_for_update(outreach_id)
    assert locked is not None and locked["contact_at"] == later  # a step keeps what earlier steps gave
