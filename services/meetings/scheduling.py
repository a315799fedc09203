"""Proposing a meeting time: business days, business hours (Tokyo), no clash for the case, no agency overbooked."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from backbone.calendar import TOKYO, is_business_day, next_business_day

SLOTS = (time(10), time(11), time(13, 30), time(14, 30), time(15, 30))
"""Start times a proposal uses (the offices' hours are 8:30–17:15; lunch is avoided)."""
DURATION = timedelta(hours=1)
SEARCH_DAYS = 120
PARALLEL_PER_AGENCY = 3
"""ASSUMPTION: an agency can send different staff to up to three meetings at the same time (the coordinators
and the CSW teams sit in most of them); one case never has two meetings at once."""


class NoSlotError(Exception):
    """No free slot in the search window."""


def overlaps(start: datetime, end: datetime, busy: list[tuple[datetime, datetime]]) -> bool:
    return any(start < other_end and other_start < end for other_start, other_end in busy)


@dataclass(frozen=True)
class Busy:
    """When the case, and each agency, already has meetings."""

    case: list[tuple[datetime, datetime]]
    agencies: dict[str, list[tuple[datetime, datetime]]]

    def free(self, start: datetime, end: datetime) -> bool:
        """No other meeting of the case then, and every agency below its parallel limit."""
        if overlaps(start, end, self.case):
            return False
        return all(
            sum(start < other_end and other_start < end for other_start, other_end in times) < PARALLEL_PER_AGENCY
            for times in self.agencies.values()
        )


def within_business_hours(start: datetime, end: datetime) -> bool:
    local_start, local_end = start.astimezone(TOKYO), end.astimezone(TOKYO)
    return (
        is_business_day(local_start.date())
        and local_start.date() == local_end.date()
        and time(8, 30) <= local_start.time()
        and local_end.time() <= time(17, 15)
    )


def propose(after: datetime, busy: Busy, *, duration: timedelta = DURATION) -> tuple[datetime, datetime]:
    """The first free slot from the next business day on (never the same day: participants need notice)."""
    day = next_business_day(after.astimezone(TOKYO).date())
    for _ in range(SEARCH_DAYS):
        for slot in SLOTS:
            start = datetime.combine(day, slot, tzinfo=TOKYO)
            if busy.free(start, start + duration):
                return start, start + duration
        day = next_business_day(day)
    raise NoSlotError(f"no free slot in the {SEARCH_DAYS} business days after {after:%Y-%m-%d}")
