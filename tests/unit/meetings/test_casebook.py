"""The casebook over the fake store: proposals under the law and the consent in force, the state machine's
changes with their SEQUENCE, conversion when consent is withdrawn, and a plan's review, in milliseconds and with
no database. The fake keeps the real store's contract (tests/integration/test_meetings_store.py)."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import pytest

from backbone import directory
from backbone.outbox import Outbox
from schemas.events import (
    ConsentMethod,
    ConsentPurpose,
    ConsentRecorded,
    ConsentScope,
    MeetingCancelled,
    MeetingCancelReason,
    MeetingKind,
    MeetingReason,
    MeetingRequested,
    MeetingRescheduled,
    MeetingScheduled,
    PlanRole,
    SupportPlanConfirmed,
    SupportPlanReviewOpened,
)
from schemas.vocabulary import SupportDomain
from services.meetings.casebook import Casebook, MeetingRefusedError
from services.meetings.lifecycle import MeetingOverError
from tests.unit.meetings.fakes import FakeMeetingStore

BOOK = Casebook(directory.load(), Outbox(source="/meetings"))
NOW = datetime(2026, 12, 3, 1, 0, tzinfo=UTC)  # a Thursday morning in Tokyo
HOUR = timedelta(hours=1)
ORGANIZER = "backup-fujisawa-shakyo"
PARTICIPANTS = ("ikiiki-zengyo", "csw-zengyo")


async def a_case(store: FakeMeetingStore, *, consent_given: datetime | None) -> tuple[uuid.UUID, uuid.UUID]:
    """A case concerning one person, who consented (for case meetings, to every agency) at `consent_given`."""
    case_id, person = uuid.uuid4(), uuid.uuid4()
    await store.keep_case(case_id, person, "zengyo", "normal")
    await store.add_member(case_id, person)
    if consent_given is not None:
        await store.keep_consent(
            ConsentRecorded(
                case_id=case_id, consent_id=uuid.uuid4(), person_id=person,
                scope=ConsentScope(all_programme_agencies=True), purposes=(ConsentPurpose.CASE_MEETING,),
                method=ConsentMethod.WRITTEN, obtained_by="ikiiki-zengyo", given_at=consent_given,
            )
        )  # fmt: skip
    return case_id, person


async def propose(store: FakeMeetingStore, case_id: uuid.UUID, kind: MeetingKind | None = None) -> MeetingRequested:
    return await BOOK.propose(
        store, case_id=case_id, organizer=ORGANIZER, participants=(ORGANIZER, *PARTICIPANTS),
        reason=MeetingReason.MULTI_DOMAIN, now=NOW, kind=kind,
    )  # fmt: skip


async def test_with_consent_in_force_the_backbone_proposes_a_consent_based_meeting_at_the_first_free_time() -> None:
    store = FakeMeetingStore()
    case_id, _ = await a_case(store, consent_given=NOW - HOUR)
    asked = await propose(store, case_id)
    assert asked.kind is MeetingKind.CONSENT_BASED and asked.proposed_start > NOW
    assert store.events() == [asked] and (await store.meeting(asked.meeting_id) or {})["state"] == "requested"


async def test_a_consent_given_later_does_not_count_yet_and_the_meeting_is_a_confidential_one() -> None:
    store = FakeMeetingStore()
    case_id, _ = await a_case(store, consent_given=NOW + HOUR)  # recorded ahead of its time
    assert (await propose(store, case_id)).kind is MeetingKind.CONFIDENTIAL
    with pytest.raises(MeetingRefusedError, match="does not cover"):
        await propose(store, case_id, MeetingKind.CONSENT_BASED)


async def test_scheduling_rescheduling_and_cancelling_raise_the_sequence_and_an_ended_meeting_stays_ended() -> None:
    store = FakeMeetingStore()
    case_id, _ = await a_case(store, consent_given=NOW - HOUR)
    asked = await propose(store, case_id)
    meeting = await store.meeting(asked.meeting_id)
    assert meeting is not None
    start, end = asked.proposed_start, asked.proposed_end
    first = await BOOK.schedule(store, meeting, starts_at=start, ends_at=end, participants=asked.participants, now=NOW)
    assert isinstance(first, MeetingScheduled) and first.sequence == 0
    later = (start + HOUR, end + HOUR)
    meeting = await store.meeting(asked.meeting_id)
    assert meeting is not None
    moved = await BOOK.schedule(
        store, meeting, starts_at=later[0], ends_at=later[1], participants=asked.participants, now=NOW
    )
    assert isinstance(moved, MeetingRescheduled) and moved.sequence == 1
    meeting = await store.meeting(asked.meeting_id)
    assert meeting is not None
    cancelled = await BOOK.cancel(store, meeting, MeetingCancelReason.OTHER, NOW, note="本人の体調")
    assert isinstance(cancelled, MeetingCancelled) and cancelled.sequence == 2
    meeting = await store.meeting(asked.meeting_id)
    assert meeting is not None and meeting["cancel_note"] == "本人の体調"
    with pytest.raises(MeetingOverError):
        await BOOK.schedule(store, meeting, starts_at=start, ends_at=end, participants=asked.participants, now=NOW)


async def test_when_consent_is_withdrawn_a_coming_meeting_of_members_becomes_a_confidential_one() -> None:
    store = FakeMeetingStore()
    case_id, person = await a_case(store, consent_given=NOW - HOUR)
    asked = await propose(store, case_id)
    (consent_id,) = store.consents
    await store.withdraw_consent(consent_id, NOW)
    await BOOK.consent_withdrawn(store, person, NOW)
    announced = store.events()[-1]
    assert isinstance(announced, MeetingRescheduled) and announced.kind is MeetingKind.CONFIDENTIAL
    assert announced.meeting_id == asked.meeting_id and announced.sequence == 1


async def test_a_plan_waits_for_the_meeting_to_be_held_and_comes_back_for_review() -> None:
    store = FakeMeetingStore()
    case_id, _ = await a_case(store, consent_given=NOW - HOUR)
    asked = await propose(store, case_id)
    roles = (PlanRole(agency="ikiiki-zengyo", responsibility="monitoring", domain=SupportDomain.ELDERLY),)
    after = asked.proposed_start + HOUR

    async def confirm() -> SupportPlanConfirmed:
        meeting = await store.meeting(asked.meeting_id)
        assert meeting is not None
        return await BOOK.confirm_plan(
            store, meeting, goals=["見守りを続ける"], roles=roles, review_on=date(2027, 3, 1), by=ORGANIZER, now=after
        )

    with pytest.raises(MeetingRefusedError, match="record the meeting as held"):
        await confirm()
    meeting = await store.meeting(asked.meeting_id)
    assert meeting is not None
    await BOOK.hold(store, meeting, after)
    plan = await confirm()
    assert plan.district.value == "zengyo" and plan.goal_count == 1
    (due,) = await store.reviews_due(datetime(2027, 3, 2, tzinfo=UTC), limit=10)
    opened = await BOOK.plan_review_opened(store, due, datetime(2027, 3, 2, tzinfo=UTC))
    assert isinstance(opened, SupportPlanReviewOpened) and opened.review_meeting_id is not None
    assert await store.meeting(opened.review_meeting_id) is not None
    assert await store.reviews_due(datetime(2027, 3, 3, tzinfo=UTC), limit=10) == []
