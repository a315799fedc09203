"""One contract suite for meetings' store, run against the fake the fast tests use (tests/unit/meetings/fakes.py)
and the real PostgreSQL store. Each real case runs in a transaction that is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta

import asyncpg
import pytest

from schemas.events import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecorded,
    ConsentScope,
    MeetingCancelReason,
    MeetingKind,
    MeetingPurpose,
    MeetingReason,
    MeetingRequested,
    PlanRole,
)
from schemas.vocabulary import SupportDomain
from services.meetings.lifecycle import State
from services.meetings.store import MeetingStore, PostgresStore
from tests.integration.stores import fake_and_real
from tests.unit.meetings.fakes import FakeMeetingStore

NOW = datetime(2031, 6, 2, 1, 0, tzinfo=UTC)  # far ahead: the tests database holds earlier runs' meetings
HOUR = timedelta(hours=1)


@pytest.fixture(params=["fake", "postgres"])
async def store(request: pytest.FixtureRequest, pool: asyncpg.Pool) -> AsyncIterator[MeetingStore]:
    async for each in fake_and_real(request, pool, FakeMeetingStore, PostgresStore, service="meetings"):
        yield each


def requested(case_id: uuid.UUID, *participants: str, start: datetime = NOW + HOUR) -> MeetingRequested:
    return MeetingRequested(
        case_id=case_id,
        meeting_id=uuid.uuid4(),
        kind=MeetingKind.CONSENT_BASED,
        purpose=MeetingPurpose.first_of(MeetingKind.CONSENT_BASED),
        organizer="backup-fujisawa-shakyo",
        participants=participants or ("ikiiki-zengyo", "csw-zengyo"),
        proposed_start=start,
        proposed_end=start + HOUR,
        reason=MeetingReason.MULTI_DOMAIN,
    )


def agency() -> str:
    return f"test-agency-{uuid.uuid4().hex[:8]}"


async def test_a_case_is_kept_once_with_each_person_it_concerns(store: MeetingStore) -> None:
    case_id, person, other = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await store.keep_case(case_id, person, "zengyo", "urgent")
    await store.keep_case(case_id, other, "chogo", "normal")  # the case's first consultation stands
    assert await store.case_facts(case_id) == {"district": "zengyo", "urgency": "urgent"}
    assert await store.case_facts(uuid.uuid4()) is None
    assert await store.add_member(case_id, person)
    assert not await store.add_member(case_id, person)


async def test_each_persons_consents_are_read_with_a_blank_row_for_one_without(store: MeetingStore) -> None:
    case_id, consenting, silent = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for person in (consenting, silent):
        await store.add_member(case_id, person)
    recorded = ConsentRecorded(
        case_id=case_id, consent_id=uuid.uuid4(), person_id=consenting, scope=ConsentScope(all_programme_agencies=True),
        purposes=(ConsentPurpose.CASE_MEETING,), method=ConsentMethod.WRITTEN, obtained_by="ikiiki-zengyo",
        given_at=NOW - HOUR,
    )  # fmt: skip
    await store.keep_consent(recorded)
    await store.keep_consent(recorded)  # heard again
    await store.withdraw_consent(recorded.consent_id, NOW)
    rows = {row["person_id"]: row for row in await store.consents_of_case(case_id)}
    assert set(rows) == {consenting, silent}
    assert rows[silent]["scope"] is None
    kept = rows[consenting]
    assert ConsentScope.model_validate_json(kept["scope"]).all_programme_agencies
    assert list(kept["purposes"]) == ["case-meeting"] and kept["given_at"] == NOW - HOUR and kept["withdrawn_at"] == NOW


async def test_a_requested_meeting_reads_back_and_keeps_its_agencies_busy(store: MeetingStore) -> None:
    case_id, a, b = uuid.uuid4(), agency(), agency()
    asked = requested(case_id, a, b)
    await store.add_meeting(asked, "本人の意向を確認")
    meeting = await store.meeting(asked.meeting_id, for_update=True)
    assert meeting is not None
    assert (meeting["state"], meeting["sequence"], list(meeting["participants"])) == ("requested", 0, [a, b])
    assert (meeting["starts_at"], meeting["request_note"], meeting["kind"]) == (
        NOW + HOUR,
        "本人の意向を確認",
        "consent-based",
    )
    assert [r["starts_at"] for r in await store.busy(uuid.uuid4(), (b,), None)] == [NOW + HOUR]
    assert await store.busy(case_id, (), asked.meeting_id) == []
    assert await store.meeting(uuid.uuid4()) is None


async def test_scheduling_cancelling_and_holding_change_what_is_read(store: MeetingStore) -> None:
    case_id, a = uuid.uuid4(), agency()
    first, second = requested(case_id, a), requested(case_id, a, start=NOW + 5 * HOUR)
    for each in (first, second):
        await store.add_meeting(each, None)
    times = (NOW + 2 * HOUR, NOW + 3 * HOUR)
    await store.save_times(first.meeting_id, state=State.SCHEDULED, times=times, participants=(a,), sequence=1, now=NOW)
    await store.save_cancelled(second.meeting_id, 1, MeetingCancelReason.OTHER, "日程が合わない", NOW)
    scheduled, cancelled = await store.meeting(first.meeting_id), await store.meeting(second.meeting_id)
    assert scheduled is not None and (scheduled["state"], scheduled["starts_at"], scheduled["sequence"]) == (
        "scheduled",
        times[0],
        1,
    )
    assert cancelled is not None and (cancelled["state"], cancelled["cancel_note"]) == ("cancelled", "日程が合わない")
    assert [r["starts_at"] for r in await store.busy(case_id, (), None)] == [times[0]]  # a cancelled one is free
    await store.save_held(first.meeting_id, NOW, moved_to=(NOW - HOUR, NOW))
    held = await store.meeting(first.meeting_id)
    assert held is not None and (held["state"], held["starts_at"], held["flag"]) == (
        "held",
        NOW - HOUR,
        "held at short notice",
    )
    assert await store.busy(case_id, (), None) == []


async def test_a_change_of_kind_and_the_sequence(store: MeetingStore) -> None:
    asked = requested(uuid.uuid4(), agency())
    await store.add_meeting(asked, None)
    changed = await store.change_kind(asked.meeting_id, MeetingPurpose.NO_CONSENT_CONFERENCE, "converted")
    assert changed is not None and (changed["kind"], changed["purpose"], changed["flag"]) == (
        "confidential",
        str(MeetingPurpose.NO_CONSENT_CONFERENCE),
        "converted",
    )
    await store.save_sequence(asked.meeting_id, 4, NOW)
    again = await store.meeting(asked.meeting_id)
    assert again is not None and again["sequence"] == 4
    assert await store.change_kind(uuid.uuid4(), MeetingPurpose.NO_CONSENT_CONFERENCE, "x") is None


async def test_a_persons_coming_meetings_of_a_kind(store: MeetingStore) -> None:
    case_id, person = uuid.uuid4(), uuid.uuid4()
    await store.add_member(case_id, person)
    coming, past = requested(case_id, agency()), requested(case_id, agency(), start=NOW - 2 * HOUR)
    for each in (coming, past):
        await store.add_meeting(each, None)
    found = await store.coming_of_person(person, MeetingKind.CONSENT_BASED, NOW)
    assert [m["meeting_id"] for m in found] == [coming.meeting_id]
    assert await store.coming_of_person(person, MeetingKind.CONFIDENTIAL, NOW) == []


async def test_an_agencys_meetings_of_a_case_its_agenda_and_the_years_counts(store: MeetingStore) -> None:
    case_id, mine = uuid.uuid4(), agency()
    late, early, over = (requested(case_id, mine, start=NOW + h * HOUR) for h in (30, 20, -30))
    others = requested(case_id, agency())
    for each in (late, early, over, others):
        await store.add_meeting(each, None)
    assert [m["meeting_id"] for m in await store.of_case_for(case_id, mine)] == [
        over.meeting_id,
        early.meeting_id,
        late.meeting_id,
    ]
    assert [m["meeting_id"] for m in await store.agenda(mine, now=NOW, limit=10)] == [
        early.meeting_id,
        late.meeting_id,
        over.meeting_id,
    ]
    assert len(await store.agenda(mine, now=NOW, limit=2)) == 2
    counted = {(r["kind"], r["state"]): r["n"] for r in await store.counts(NOW - 40 * HOUR, NOW + 40 * HOUR)}
    assert counted[("consent-based", "requested")] >= 4


async def test_a_meeting_has_one_plan_whose_review_fires_once(store: MeetingStore) -> None:
    asked = requested(uuid.uuid4(), agency())
    await store.add_meeting(asked, None)
    meeting = await store.meeting(asked.meeting_id)
    assert meeting is not None
    roles = (PlanRole(agency="ikiiki-zengyo", responsibility="monitoring", domain=SupportDomain.ELDERLY),)
    plan_id, review = uuid.uuid4(), (date(2031, 7, 1), NOW + HOUR)
    assert await store.add_plan(
        plan_id, meeting, goals=["生活の安定"], roles=roles, review=review, by="backup-fujisawa-shakyo"
    )
    assert not await store.add_plan(uuid.uuid4(), meeting, goals=["x"], roles=roles, review=review, by="x")
    plan = await store.plan_of(asked.meeting_id)
    assert plan is not None and plan["goals"] == ["生活の安定"] and plan["roles"][0]["agency"] == "ikiiki-zengyo"
    assert plan_id not in {p["plan_id"] for p in await store.reviews_due(NOW, limit=1000)}
    (due,) = [p for p in await store.reviews_due(NOW + HOUR, limit=1000) if p["plan_id"] == plan_id]
    assert due["purpose"] == meeting["purpose"] and list(due["participants"]) == list(meeting["participants"])
    await store.review_fired(plan_id, NOW + HOUR, None)
    assert plan_id not in {p["plan_id"] for p in await store.reviews_due(NOW + 2 * HOUR, limit=1000)}


async def test_a_savepoint_undoes_its_block_only(store: MeetingStore) -> None:
    kept, undone = requested(uuid.uuid4(), agency()), requested(uuid.uuid4(), agency())
    await store.add_meeting(kept, None)
    with pytest.raises(RuntimeError):
        async with store.savepoint():
            await store.add_meeting(undone, None)
            raise RuntimeError("refused")
    assert await store.meeting(kept.meeting_id) is not None
    assert await store.meeting(undone.meeting_id) is None
