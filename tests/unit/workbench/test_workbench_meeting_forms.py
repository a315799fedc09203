"""The meetings pages' forms: what a coordinator types becomes meetings' API body, or each field's problem;
meetings' refusals are worded for staff; only coordinators of the right agency see the forms."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from jinja2 import Environment

from services.workbench import text
from services.workbench.meeting_apis import Meeting
from services.workbench.meeting_forms import (
    REFUSALS,
    RESPONSIBILITIES,
    actions_for,
    held_body,
    plan_body,
    refusal_of,
    schedule_body,
)
from services.workbench.web import page_environment

NOW = datetime(2026, 5, 12, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
COORDINATOR = frozenset({"staff", "coordinator"})


def a_meeting(**changes: Any) -> Meeting:
    fields: dict[str, Any] = {
        "meeting_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "kind": "consent-based",
        "state": "requested",
        "organizer": "backup-fujisawa",
        "participants": ("backup-fujisawa", "ikiiki-katase"),
        "starts_at": NOW + timedelta(days=2),
        "ends_at": NOW + timedelta(days=2, hours=1),
        "sequence": 0,
        "reason": "asked",
    }
    return Meeting.model_validate(fields | changes)


def test_a_time_typed_in_tokyo_becomes_an_aware_time_and_a_wrong_one_names_its_field() -> None:
    body, problems = schedule_body({"date": "2026-05-14", "starts": "10:00", "ends": "11:30"})
    assert problems == []
    assert body == {"starts_at": "2026-05-14T10:00:00+09:00", "ends_at": "2026-05-14T11:30:00+09:00"}
    assert schedule_body({"date": "14/05/2026", "starts": "10", "ends": "9"})[1] == ["date", "starts", "ends"]
    assert schedule_body({"date": "2026-05-14", "starts": "10:00", "ends": "10:00"})[1] == ["ends"]


def test_held_as_planned_sends_nothing_and_at_short_notice_sends_when_in_the_past() -> None:
    assert held_body({"held_date": "", "held_time": ""}, NOW) == ({}, [])
    assert held_body({"held_date": "2026-05-12", "held_time": "11:00"}, NOW) == (
        {"at": "2026-05-12T11:00:00+09:00"},
        [],
    )
    assert held_body({"held_date": "2026-05-12", "held_time": "13:00"}, NOW)[1] == ["held_time"]  # not yet
    assert held_body({"held_date": "", "held_time": "11:00"}, NOW)[1] == ["held_date"]


def test_a_plan_takes_the_goals_by_line_and_a_role_per_participant_that_has_one() -> None:
    meeting = a_meeting(state="held")
    form = {
        "goals": "外出の機会を週1回つくる\n\n  介護負担を減らす  \n",
        "role-ikiiki-katase": "lead",
        "domain-ikiiki-katase": "elderly",
        "role-backup-fujisawa": "",
        "role-someone-else": "housing",  # not a participant: never sent
        "review_on": "2026-08-10",
    }
    body, problems = plan_body(form, meeting, date(2026, 5, 12))
    assert problems == []
    assert body == {
        "goals": ["外出の機会を週1回つくる", "介護負担を減らす"],
        "roles": [{"agency": "ikiiki-katase", "responsibility": "lead", "domain": "elderly"}],
        "review_on": "2026-08-10",
    }
    wrong = {"goals": "x" * 201, "role-ikiiki-katase": "lead", "domain-ikiiki-katase": "", "review_on": "2026-05-12"}
    assert plan_body(wrong, meeting, date(2026, 5, 12))[1] == ["goals", "roles", "review_on"]
    assert plan_body({"goals": "a", "review_on": "2026-08-10"}, meeting, date(2026, 5, 12))[1] == ["roles"]


def test_meetings_refusals_are_worded_for_staff_and_every_word_exists_in_both_languages() -> None:
    assert refusal_of(422, "the meeting must be on one business day between 8:30 and 17:15 (Tokyo)") == (
        "refused.business-hours"
    )
    assert refusal_of(422, "a 支援会議 held as a conference (①) decides no plan: request ...") == "refused.conference"
    assert refusal_of(422, "an outreach plan has at least one outreach role, held by ...") == "refused.outreach"
    assert refusal_of(422, "purpose outreach-plan belongs to a confidential meeting, not a ...") == "refused.purpose"
    assert refusal_of(422, "the person's consent (purpose case-meeting) does not cover: x") == "refused.consent"
    assert refusal_of(422, "something new") == "refused.other"
    assert refusal_of(403, "Coordinators only") == "refused.403"
    keys = {key for _, key in REFUSALS} | {"refused.other", "refused.403", "refused.404", "refused.409"}
    keys |= {f"role.{code}" for code in RESPONSIBILITIES} | {f"state.{s}" for s in ("requested", "scheduled", "held")}
    assert keys <= text.MEETINGS.keys()
    assert all(ja and en and ja != en for ja, en in text.MEETINGS.values())


def test_only_a_coordinator_of_the_organiser_or_a_coordinator_agency_gets_forms_that_the_state_allows() -> None:
    requested = a_meeting()
    assert actions_for(requested, agency_id="backup-fujisawa", roles=COORDINATOR, coordinator_agency=True) == [
        "schedule",
        "held",
    ]
    staff = frozenset({"staff"})
    assert actions_for(requested, agency_id="backup-fujisawa", roles=staff, coordinator_agency=True) == []
    assert actions_for(requested, agency_id="ikiiki-katase", roles=COORDINATOR, coordinator_agency=False) == []
    held = a_meeting(state="held")
    assert actions_for(held, agency_id="backup-fujisawa", roles=COORDINATOR, coordinator_agency=True) == ["plan"]
    other_organiser = a_meeting(state="held", organizer="backup-fujisawa-shakyo")
    assert actions_for(other_organiser, agency_id="backup-fujisawa", roles=COORDINATOR, coordinator_agency=True) == []
    cancelled = a_meeting(state="cancelled")
    assert actions_for(cancelled, agency_id="backup-fujisawa", roles=COORDINATOR, coordinator_agency=True) == []


def test_the_templates_compile() -> None:
    pages: Environment = page_environment()
    for name in ("meetings.html", "meeting.html"):
        assert pages.get_template(name) is not None
