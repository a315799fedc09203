"""Business days around Golden Week and the New Year holidays (Asia/Tokyo)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from backbone.calendar import TOKYO, business_deadline, business_morning, is_business_day
from schemas.vocabulary import Urgency
from services.referral.policy import ReferralPolicy


def tokyo(*args: int) -> datetime:
    return datetime(*args, tzinfo=TOKYO)  # type: ignore[misc]


def test_golden_week_2026_is_skipped() -> None:
    # Tue 28 April 2026: 29 Apr (Showa Day) and 3-6 May (Constitution, Greenery, Children's, substitute) are holidays.
    assert [is_business_day(date(2026, 4, d)) for d in (28, 29, 30)] == [True, False, True]
    assert not any(is_business_day(date(2026, 5, d)) for d in (2, 3, 4, 5, 6))
    assert business_deadline(tokyo(2026, 4, 28, 10), 3) == tokyo(2026, 5, 7, 17)


def test_the_new_year_closing_days_are_skipped() -> None:
    # 29 Dec to 3 Jan the offices are shut; 2026-12-28 is a Monday; 2027-01-04 a Monday.
    assert not any(
        is_business_day(d) for d in (date(2026, 12, 29), date(2026, 12, 31), date(2027, 1, 1), date(2027, 1, 3))
    )
    assert business_deadline(tokyo(2026, 12, 28, 16), 1) == tokyo(2027, 1, 4, 17)
    assert business_deadline(tokyo(2026, 12, 28, 16), 3) == tokyo(2027, 1, 6, 17)


def test_weekends_and_the_local_date_count() -> None:
    # Friday 23:30 in Tokyo is still Friday there, though it is 14:30 UTC.
    friday_night = tokyo(2026, 11, 27, 23, 30).astimezone(UTC)
    assert business_deadline(friday_night, 1) == tokyo(2026, 11, 30, 17)


def test_urgent_referrals_run_on_the_clock_day_and_night() -> None:
    policy = ReferralPolicy(urgent_hours=4)
    holiday_night = tokyo(2026, 5, 3, 2)
    assert policy.respond_by(holiday_night, Urgency.URGENT) - holiday_night == timedelta(hours=4)
    assert policy.respond_by(holiday_night, Urgency.NORMAL) == tokyo(2026, 5, 11, 17)


@pytest.mark.parametrize(
    ("review_on", "due"),
    [
        (date(2026, 6, 10), datetime(2026, 6, 10, 8, 30, tzinfo=TOKYO)),  # a Wednesday: that morning
        (date(2026, 6, 13), datetime(2026, 6, 15, 8, 30, tzinfo=TOKYO)),  # a Saturday: Monday
        (date(2026, 5, 4), datetime(2026, 5, 7, 8, 30, tzinfo=TOKYO)),  # みどりの日 in Golden Week: Thursday
        (date(2026, 12, 29), datetime(2027, 1, 4, 8, 30, tzinfo=TOKYO)),  # the New Year closing: 4 January
    ],
)
def test_a_plans_review_falls_due_when_the_offices_open_on_the_business_day(review_on: date, due: datetime) -> None:
    assert business_morning(review_on) == due


def test_a_review_not_done_is_overdue_after_ten_business_days_by_default() -> None:
    due = business_morning(date(2026, 4, 28))  # Tuesday before Golden Week
    assert ReferralPolicy().review_overdue_at(due) == tokyo(2026, 5, 18, 17)  # 30 Apr, 1 May, then 7 May on
