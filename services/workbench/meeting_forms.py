"""The coordinators' forms on a meeting's page, turned into meetings' API bodies, or into each field's problem.

Pure: the page checks the shape of what was typed (a date, a time, the plan's parts); meetings checks the law
and the calendar (consent, members, business hours, clashes), and `refusal_of` words its refusal for the staff
member. Times are typed in Tokyo's time, as the city works.
"""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any, get_args

from backbone.calendar import TOKYO
from schemas.events import PLANNING_PURPOSES, PlanRole
from schemas.vocabulary import SupportDomain
from services.workbench.meeting_apis import Meeting

ACTIONS = ("schedule", "held", "plan")
RESPONSIBILITIES: tuple[str, ...] = get_args(PlanRole.model_fields["responsibility"].annotation)
"""The parts an agency may take in a plan, as the contract names them."""
GOALS_MAX = 10
GOAL_LIMIT = 200

Body = dict[str, Any]

# meetings' refusals (services/meetings/casebook.py and rules.py) by a phrase of their detail, first match wins;
# a refusal not listed here is shown with the general words (text.MEETINGS["refused.other"]).
REFUSALS: tuple[tuple[str, str], ...] = (
    ("decides no plan", "refused.conference"),
    ("参加支援 plan gives", "refused.participation"),
    ("belongs to a", "refused.purpose"),
    ("outreach role", "refused.outreach"),
    ("must start in the future", "refused.future"),
    ("between 8:30 and 17:15", "refused.business-hours"),
    ("already has a meeting then", "refused.busy"),
    ("not members of the 支援会議", "refused.members"),
    ("consent", "refused.consent"),
    ("only once it has started", "refused.not-started"),
    ("`at` must be", "refused.at"),
    ("record the meeting as held", "refused.not-held"),
    ("agencies not in the meeting", "refused.outsiders"),
    ("review date", "refused.review"),
    ("confirmed already", "refused.confirmed"),
)


def refusal_of(status: int, detail: str) -> str:
    """The key in text.MEETINGS of what to tell the staff member when meetings refused an action."""
    if status == 422:
        return next((key for phrase, key in REFUSALS if phrase in detail), "refused.other")
    return {403: "refused.403", 409: "refused.409", 429: "refused.429"}.get(status, "refused.other")


def _day(value: str) -> date | None:
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        return None


def _clock(value: str) -> time | None:
    try:
        return time.fromisoformat(value.strip()) if len(value.strip()) == len("10:00") else None
    except ValueError:
        return None


def _at(day: date, clock: time) -> datetime:
    return datetime.combine(day, clock, tzinfo=TOKYO)


def schedule_body(form: dict[str, str]) -> tuple[Body, list[str]]:
    """`date`, `starts` and `ends` (prefilled with the meeting's time: unchanged, they fix the proposed time)."""
    day, starts, ends = _day(form.get("date", "")), _clock(form.get("starts", "")), _clock(form.get("ends", ""))
    problems = [name for name, value in (("date", day), ("starts", starts)) if value is None]
    if ends is None or (starts is not None and ends <= starts):
        problems.append("ends")
    if problems or day is None or starts is None or ends is None:
        return {}, problems
    return {"starts_at": _at(day, starts).isoformat(), "ends_at": _at(day, ends).isoformat()}, []


def held_body(form: dict[str, str], now: datetime) -> tuple[Body, list[str]]:
    """Both fields empty: held as planned. Otherwise `held_date` and `held_time`: convened earlier at short notice."""
    typed_day, typed_clock = form.get("held_date", "").strip(), form.get("held_time", "").strip()
    if not typed_day and not typed_clock:
        return {}, []
    day, clock = _day(typed_day), _clock(typed_clock)
    if day is None:
        return {}, ["held_date"]
    if clock is None or _at(day, clock) > now:
        return {}, ["held_time"]
    return {"at": _at(day, clock).isoformat()}, []


def plan_body(
    form: dict[str, str], meeting: Meeting, today: date, places: frozenset[str] = frozenset()
) -> tuple[Body, list[str]]:
    """The goals (one a line), a role and its domain for each participant that has one, the review date; for a
    参加支援 plan, also the 参加支援 resource chosen as `place` (one of `places`) with its domain."""
    goals = [line.strip() for line in form.get("goals", "").splitlines() if line.strip()]
    roles = [
        {"agency": agency, "responsibility": form[f"role-{agency}"], "domain": form.get(f"domain-{agency}", "")}
        for agency in meeting.participants
        if form.get(f"role-{agency}") in RESPONSIBILITIES
    ]
    place = form.get("place", "")
    if place in places and place not in meeting.participants:
        roles.append({"agency": place, "responsibility": "participation", "domain": form.get("place-domain", "")})
    review_on = _day(form.get("review_on", ""))
    problems = [
        name
        for name, bad in (
            ("goals", not 1 <= len(goals) <= GOALS_MAX or any(len(goal) > GOAL_LIMIT for goal in goals)),
            ("roles", not roles or any(role["domain"] not in set(SupportDomain) for role in roles)),
            ("review_on", review_on is None or review_on <= today),
        )
        if bad
    ]
    return {"goals": goals, "roles": roles, "review_on": str(review_on)}, problems


def actions_for(
    meeting: Meeting, *, agency_id: str | None, roles: frozenset[str], coordinator_agency: bool
) -> list[str]:
    """The forms a staff member sees: only with the coordinator role, for the organizer's agency or a coordinator
    agency (the plan: the organizer's alone), and only those the meeting's state allows. meetings decides again."""
    if "coordinator" not in roles or not (meeting.organizer == agency_id or coordinator_agency):
        return []
    if meeting.state in ("requested", "scheduled"):
        return ["schedule", "held"]
    plan_due = meeting.state == "held" and meeting.purpose in PLANNING_PURPOSES and meeting.plan is None
    return ["plan"] if plan_due and meeting.organizer == agency_id else []
