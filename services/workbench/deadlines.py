"""How long a referral has left, as the staff read it: hours for an urgent one (its clock runs day and
night), business days for a normal one (its deadline is 17:00 on a business day, backbone/calendar.py)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from backbone.calendar import TOKYO, is_business_day


@dataclass(frozen=True)
class TimeLeft:
    overdue: bool
    ja: str
    en: str

    def text(self, lang: str) -> str:
        return self.en if lang == "en" else self.ja


def business_days_between(start: datetime, end: datetime) -> int:
    """Business days after the day of `start` up to and including the day of `end` (Tokyo dates)."""
    first, last = start.astimezone(TOKYO).date(), end.astimezone(TOKYO).date()
    count = 0
    day = first
    while day < last:
        day = day.fromordinal(day.toordinal() + 1)
        count += is_business_day(day)
    return count


def time_left(*, urgent: bool, respond_by: datetime, overdue_at: datetime | None, now: datetime) -> TimeLeft:
    if overdue_at is not None or respond_by <= now:
        late = now - respond_by
        hours = max(0, int(late.total_seconds() // 3600))
        return TimeLeft(True, f"期限超過（{hours}時間経過）", f"Overdue ({hours} h past)")
    if urgent:
        minutes = int((respond_by - now).total_seconds() // 60)
        hours, rest = divmod(minutes, 60)
        ja = f"あと{hours}時間{rest}分" if hours else f"あと{rest}分"
        en = f"{hours} h {rest} min left" if hours else f"{rest} min left"
        return TimeLeft(False, ja, en)
    days = business_days_between(now, respond_by)
    clock = respond_by.astimezone(TOKYO).strftime("%H:%M")
    if days == 0:
        return TimeLeft(False, f"本日{clock}まで", f"today by {clock}")
    return TimeLeft(
        False, f"あと{days}営業日（{clock}まで）", f"{days} business day{'s' if days > 1 else ''} left (by {clock})"
    )
