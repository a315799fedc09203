"""Business days and fiscal years of the city's offices, on the Japanese calendar, in Asia/Tokyo.

A business day is a weekday that is neither a national holiday (from the `holidays` package, which
follows the Cabinet Office's list, substitute holidays included) nor one of the offices' New Year
closing days, 29 December to 3 January (年末年始; not national holidays, but the offices are shut).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

import holidays

TOKYO = ZoneInfo("Asia/Tokyo")
CLOSE_OF_BUSINESS = time(17, 0)
OPENING = time(8, 30)
NEW_YEAR_CLOSING = {(12, 29), (12, 30), (12, 31), (1, 1), (1, 2), (1, 3)}


@lru_cache(maxsize=64)
def _national_holidays(year: int) -> frozenset[date]:
    return frozenset(holidays.country_holidays("JP", years=year))


def is_national_holiday(day: date) -> bool:
    return day in _national_holidays(day.year)


def is_business_day(day: date) -> bool:
    return (
        day.weekday() < 5 and day not in _national_holidays(day.year) and (day.month, day.day) not in NEW_YEAR_CLOSING
    )


def business_deadline(start: datetime, business_days: int) -> datetime:
    """17:00 in Tokyo on the `business_days`-th business day after the day of `start` (Tokyo time)."""
    day = start.astimezone(TOKYO).date()
    counted = 0
    while counted < business_days:
        day += timedelta(days=1)
        if is_business_day(day):
            counted += 1
    return datetime.combine(day, CLOSE_OF_BUSINESS, tzinfo=TOKYO)


def next_business_day(day: date) -> date:
    day += timedelta(days=1)
    while not is_business_day(day):
        day += timedelta(days=1)
    return day


def business_morning(day: date) -> datetime:
    """8:30 in Tokyo, when the offices open, on `day` if it is a business day, else on the next one: when a
    date-only deadline (a plan's review date) falls due."""
    if not is_business_day(day):
        day = next_business_day(day)
    return datetime.combine(day, OPENING, tzinfo=TOKYO)


def fiscal_year(moment: datetime) -> int:
    """The Japanese fiscal year (April to March) of a moment, in Tokyo: 2023 for 1 April 2023 – 31 March 2024."""
    local = moment.astimezone(TOKYO)
    return local.year if local.month >= 4 else local.year - 1


def reiwa(fiscal: int) -> str:
    """令和N年度 for a fiscal year (令和元年度 = 2019)."""
    number = fiscal - 2018
    return f"令和{'元' if number == 1 else number}年度"


def fiscal_year_bounds(fiscal: int) -> tuple[datetime, datetime]:
    """[start, end) of a fiscal year, in Tokyo time."""
    return datetime(fiscal, 4, 1, tzinfo=TOKYO), datetime(fiscal + 1, 4, 1, tzinfo=TOKYO)
