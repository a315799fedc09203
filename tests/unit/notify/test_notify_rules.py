from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, time

import pytest
from pydantic import ValidationError

from backbone import directory
from backbone.calendar import TOKYO
from schemas.events import EVENT_TYPES
from schemas.vocabulary import Urgency
from services.notify import channels, rules
from services.notify.rosters import Roster, on_call
from services.notify.rules import Recipient, answered

PEOPLE = [{"id": "day", "email": "day@x.invalid"}, {"id": "night", "email": "night@x.invalid"},
          {"id": "boss", "email": "boss@x.invalid", "language": "en"}]  # fmt: skip
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]


def roster(shifts: list[dict[str, object]], overrides: list[dict[str, object]] | None = None) -> Roster:
    return Roster.model_validate({"people": PEOPLE, "shifts": shifts, "overrides": overrides or []})


GOOD = [
    {"role": "primary", "days": WEEK, "start": "09:00", "end": "18:00", "person": "day"},
    {"role": "primary", "days": WEEK, "start": "18:00", "end": "09:00", "person": "night"},
    {"role": "supervisor", "days": WEEK, "start": "00:00", "end": "00:00", "person": "boss"},
]


def test_who_is_on_call_by_day_night_holiday_and_override() -> None:
    week = roster(GOOD, [{"role": "primary", "starts_at": "2026-12-01T12:00:00+09:00",
                          "ends_at": "2026-12-01T13:00:00+09:00", "person": "boss"}])  # fmt: skip
    assert on_call(week, "primary", datetime(2026, 12, 1, 10, tzinfo=TOKYO)).id == "day"  # type: ignore[union-attr]
    assert on_call(week, "primary", datetime(2026, 12, 2, 2, tzinfo=TOKYO)).id == "night"  # type: ignore[union-attr]
    assert on_call(week, "primary", datetime(2026, 12, 1, 12, 30, tzinfo=TOKYO)).id == "boss"  # type: ignore[union-attr]
    assert on_call(week, "secondary", datetime(2026, 12, 1, 10, tzinfo=TOKYO)) is None


def test_holidays_use_the_holiday_shift() -> None:
    weekdays_only = [dict(s, days=["mon", "tue", "wed", "thu", "fri", "sat", "sun"]) for s in GOOD[:2]]
    holiday = [{"role": "primary", "days": ["holiday"], "start": "00:00", "end": "00:00", "person": "boss"}]
    covered = roster([*weekdays_only, *holiday, GOOD[2]])
    # 3 May 2026 (Constitution Day) is a Sunday and a holiday: the holiday shift applies.
    assert on_call(covered, "primary", datetime(2026, 5, 3, 10, tzinfo=TOKYO)).id == "boss"  # type: ignore[union-attr]


def test_gaps_and_overlaps_are_refused_with_the_reason() -> None:
    with pytest.raises(ValidationError, match="no primary on mon 00:00–09:00, 18:00–24:00"):
        roster([GOOD[0], GOOD[2]])
    with pytest.raises(ValidationError, match=r"shift 2 \(primary\) overlaps shift 1"):
        roster([GOOD[0], dict(GOOD[1], start="17:00"), GOOD[2]])
    with pytest.raises(ValidationError, match="unknown person 'ghost'"):
        roster([*GOOD[:2], dict(GOOD[2], person="ghost")])


def test_normal_notifications_wait_out_the_quiet_hours_urgent_ones_do_not() -> None:
    night = datetime(2026, 12, 1, 23, tzinfo=TOKYO)
    assert rules.send_at(night, Urgency.URGENT, time(20), time(8)) == night
    assert rules.send_at(night, Urgency.NORMAL, time(20), time(8)) == datetime(2026, 12, 2, 8, tzinfo=TOKYO)
    early = datetime(2026, 12, 2, 6, tzinfo=TOKYO)
    assert rules.send_at(early, Urgency.NORMAL, time(20), time(8)) == datetime(2026, 12, 2, 8, tzinfo=TOKYO)
    noon = datetime(2026, 12, 2, 12, tzinfo=TOKYO)
    assert rules.send_at(noon, Urgency.NORMAL, time(20), time(8)) == noon


def test_quiet_hours_may_sit_inside_one_day_or_be_switched_off() -> None:
    lunch, evening = datetime(2026, 12, 2, 12, 30, tzinfo=TOKYO), datetime(2026, 12, 2, 21, tzinfo=TOKYO)
    assert rules.send_at(lunch, Urgency.NORMAL, time(12), time(13)) == datetime(2026, 12, 2, 13, tzinfo=TOKYO)
    assert rules.send_at(evening, Urgency.NORMAL, time(12), time(13)) == evening
    for moment in (lunch, evening, datetime(2026, 12, 2, 0, tzinfo=TOKYO)):
        assert rules.send_at(moment, Urgency.NORMAL, time(0), time(0)) == moment
        assert rules.send_at(moment, Urgency.NORMAL, time(20), time(20)) == moment


def test_the_ladder() -> None:
    assert [rules.next_rung(r) for r in ("primary", "secondary", "supervisor", "coordinator")] == [
        "secondary", "supervisor", "coordinator", None]  # fmt: skip


def test_webhook_signatures_verify_and_refuse_tampering_and_replays() -> None:
    secret, body = b"s3cret", b'{"notification_id": "n"}'
    header = channels.sign(secret, body, timestamp=1_800_000_000)
    assert channels.verify(secret, body, header, now=1_800_000_100)
    assert not channels.verify(secret, body + b" ", header, now=1_800_000_100)
    assert not channels.verify(b"other", body, header, now=1_800_000_100)
    assert not channels.verify(secret, body, header, now=1_800_000_000 + 301)  # older than five minutes
    assert not channels.verify(secret, body, "garbage")


def test_a_place_without_a_system_is_answered_for_by_the_agency_the_directory_names() -> None:
    told = [
        Recipient("engawa-kugenuma-kikan", "primary", "meeting-cancelled"),
        Recipient("engawa-kugenuma", "primary", "meeting-cancelled"),  # both answered by 社協: told once
        Recipient("shuro-junbi", "primary", "meeting-cancelled"),  # answers for itself
    ]
    assert answered(told, directory.load()) == [
        Recipient("backup-fujisawa-shakyo", "primary", "meeting-cancelled"),
        Recipient("shuro-junbi", "primary", "meeting-cancelled"),
    ]


class Untouchable(frozenset[str]):
    """The agencies holding a case, which no rule may look at unless it said it needs them."""

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the rule read the case's agencies")

    def __contains__(self, _item: object) -> bool:
        raise AssertionError("the rule read the case's agencies")

    def __len__(self) -> int:
        raise AssertionError("the rule read the case's agencies")


class Anything(str):
    """Any field's value at once: an agency id, a list of them, an object whose attributes are agency ids."""

    def __getattr__(self, _name: str) -> Anything:
        return self

    def __iter__(self) -> Iterator[Anything]:  # type: ignore[override] # a list of itself, not of its characters
        return iter([self])


@pytest.mark.parametrize("event_type", sorted(EVENT_TYPES))
def test_only_the_events_that_say_so_need_the_agencies_holding_the_case(event_type: str) -> None:
    """notify reads the case's agencies (a round trip per record) only for the events whose recipients need them."""
    model = EVENT_TYPES[event_type]
    event = model.model_construct(**dict.fromkeys(model.model_fields, Anything("x")))  # every field set, unvalidated
    if rules.needs_case_agencies(event):
        assert rules.recipients(event, case_agencies=frozenset({"a", "b"}), coordinator="c")
    else:
        rules.recipients(event, case_agencies=Untouchable(), coordinator="c")
