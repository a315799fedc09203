"""On-call rosters (当番表): who is on call at an agency, as primary, secondary or supervisor.

A roster lists its people (a staff id and a work e-mail address or a webhook), weekly shifts per role
(days `mon`…`sun`, and `holiday` for Japan's national holidays, which replace the weekday), and dated
overrides. Times are Asia/Tokyo; a shift may run past midnight. Validation refuses overlapping shifts
of one role and any gap in the primary's cover, since an urgent case can come at any hour.

ASSUMPTION: an agency that has not registered a roster has a default one: its directory on-call address
as primary around the clock, and `supervisor@<agency>` as supervisor.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, HttpUrl, model_validator

from backbone.calendar import TOKYO, is_national_holiday

Role = Literal["primary", "secondary", "supervisor"]
Day = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]
DAYS: tuple[Day, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
MINUTES = 24 * 60


class Person(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="The agency's own staff id (no names)")
    email: str | None = Field(default=None, pattern=r"^[^@\s]+@[^@\s]+$")
    webhook: HttpUrl | None = None
    language: Literal["ja", "en"] = "ja"

    @model_validator(mode="after")
    def _reachable(self) -> Person:
        if self.email is None and self.webhook is None:
            raise ValueError(f"{self.id} needs an email or a webhook")
        return self


class Shift(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    days: tuple[Day, ...] = Field(min_length=1)
    start: time
    end: time = Field(description="May be earlier than start: the shift runs past midnight; 00:00 = midnight")
    person: str

    def minutes(self) -> list[tuple[int, int]]:
        """(day index, minute) intervals as [start, end) minute offsets within a 8-day week (holiday = 7)."""
        start = self.start.hour * 60 + self.start.minute
        end = self.end.hour * 60 + self.end.minute
        length = (end - start) % MINUTES or MINUTES
        return [(DAYS.index(day), start + offset) for day in self.days for offset in range(length)]


class Override(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    role: Role
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    person: str


class Roster(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    people: tuple[Person, ...] = Field(min_length=1)
    shifts: tuple[Shift, ...] = Field(min_length=1)
    overrides: tuple[Override, ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Roster:
        problems = roster_problems(self)
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def person(self, person_id: str) -> Person | None:
        return next((p for p in self.people if p.id == person_id), None)


def roster_problems(roster: Roster) -> list[str]:
    """Unknown people, overlapping shifts of a role, and gaps in the primary's cover (pure)."""
    known = {p.id for p in roster.people}
    problems = [
        f"shift {i + 1}: unknown person {s.person!r}" for i, s in enumerate(roster.shifts) if s.person not in known
    ]
    problems += [
        f"override {i + 1}: unknown person {o.person!r}"
        for i, o in enumerate(roster.overrides)
        if o.person not in known
    ]
    problems += [
        f"override {i + 1}: ends before it starts" for i, o in enumerate(roster.overrides) if o.ends_at <= o.starts_at
    ]
    for role in ("primary", "secondary", "supervisor"):
        covered: dict[tuple[int, int], int] = {}
        for number, shift in enumerate(roster.shifts, 1):
            if shift.role != role:
                continue
            for day, minute in shift.minutes():
                slot = ((day + minute // MINUTES) % 7 if day < 7 else 7, minute % MINUTES)
                if slot in covered:
                    problems.append(
                        f"shift {number} ({role}) overlaps shift {covered[slot]} on {DAYS[slot[0]]} at "
                        f"{slot[1] // 60:02d}:{slot[1] % 60:02d}"
                    )
                    break
                covered[slot] = number
        if role == "primary":
            problems += _gaps(covered)
    return problems


def _gaps(covered: dict[tuple[int, int], int]) -> list[str]:
    gaps = []
    for day in range(8):
        ranges: list[tuple[int, int]] = []
        for minute in range(MINUTES):
            if (day, minute) in covered:
                continue
            if ranges and ranges[-1][1] == minute:
                ranges[-1] = (ranges[-1][0], minute + 1)
            else:
                ranges.append((minute, minute + 1))
        if ranges:
            spans = ", ".join(f"{_clock(a)}–{_clock(b)}" for a, b in ranges)
            gaps.append(f"no primary on {DAYS[day]} {spans}")
    return gaps


def _clock(minute: int) -> str:
    return f"{minute // 60:02d}:{minute % 60:02d}"


def on_call(roster: Roster, role: Role, at: datetime) -> Person | None:
    """Who holds `role` at `at`: an override first, then the shift of that day (holidays use `holiday`)."""
    for override in roster.overrides:
        if override.role == role and override.starts_at <= at < override.ends_at:
            return roster.person(override.person)
    local = at.astimezone(TOKYO)
    minute = local.hour * 60 + local.minute
    for shift in roster.shifts:
        if shift.role != role:
            continue
        for day, offset in (
            (_day_index(local.date()), minute),
            (_day_index(local.date() - timedelta(days=1)), minute + MINUTES),
        ):
            start = shift.start.hour * 60 + shift.start.minute
            length = ((shift.end.hour * 60 + shift.end.minute) - start) % MINUTES or MINUTES
            if DAYS[day] in shift.days and start <= offset < start + length:
                return roster.person(shift.person)
    return None


def _day_index(day: date) -> int:
    return 7 if is_national_holiday(day) else day.weekday()


def default_roster(agency_id: str, on_call_address: str) -> Roster:
    every_day: tuple[Day, ...] = DAYS
    supervisor = f"supervisor@{agency_id}.fujisawa-backbone.invalid"
    return Roster(
        people=(Person(id="on-call", email=on_call_address), Person(id="supervisor", email=supervisor)),
        shifts=(
            Shift(role="primary", days=every_day, start=time(0), end=time(0), person="on-call"),
            Shift(role="supervisor", days=every_day, start=time(0), end=time(0), person="supervisor"),
        ),
    )
