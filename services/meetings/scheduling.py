"""Proposing a meeting time: business days, business hours (Tokyo), no clash for the case or any agency."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from backbone.calendar import TOKYO, is_business_day, next_business_day

SLOTS = (time(10), time(11), time(13, 30), time(14, 30), time(15, 30))
"""Start times a proposal uses (the offices' hours are 8:30–17:15; lunch is avoided)."""
DURATION = timedelta(hours=1)
SEARCH_DAYS = 60


class NoSlotError(Exception):
    """No free slot in the search window."""


def overlaps(start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in busy)


def within_business_hours(start: datetime, end: datetime) -> bool:
    local_start, local_end = start.astimezone(TOKYO), end.astimezone(TOKYO)
    return (
        is_business_day(local_start.date())
        and local_start.date() == local_end.date()
        and time(8, 30) <= local_start.time()
        and local_end.time() <= time(17, 15)
    )


def propose(
    after: datetime, busy: list[tuple[datetime, datetime]], *, duration: timedelta = DURATION
) -> tuple[datetime, datetime]:
    """The first free slot from the next business day on (never the same day: participants need notice)."""
    day = next_business_day(after.astimezone(TOKYO).date())
    for _ in range(SEARCH_DAYS):
        for slot in SLOTS:
            start = datetime.combine(day, slot, tzinfo=TOKYO)
            if not overlaps(start, start + duration, busy):
                return start, start + duration
        day = next_business_day(day)
    raise NoSlotError(f"no free slot in the {SEARCH_DAYS} business days after {after:%Y-%m-%d}")
