"""The seed's four meeting purposes, as a table: which kind each belongs to, which decides a plan and with
whom, how a meeting changes kind with consent, and how the city's 実績 counts them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from backbone import directory
from backbone.consent import Consent
from schemas.events import (
    ConsentPurpose,
    ConsentScope,
    MeetingHeld,
    MeetingKind,
    MeetingPurpose,
    PlanRole,
    purpose_of,
)
from schemas.vocabulary import AgencyType
from services.audit.queries import meetings_held
from services.meetings import rules
from services.meetings.rules import CaseConsents

DIRECTORY = directory.load()
MEMBERS = ("backup-fujisawa-shakyo", "csw-endo", "ikiiki-endo")
MEETING = frozenset({ConsentPurpose.CASE_MEETING})
EVERYONE = CaseConsents.of_one(Consent(ConsentScope(all_programme_agencies=True), MEETING))
NOT_PLACES = CaseConsents.of_one(Consent(ConsentScope(agency_types=(AgencyType.DISTRICT_CSW,)), MEETING))
NONE = CaseConsents.of_one()

LEAD = PlanRole(agency="ikiiki-endo", responsibility="lead", domain="elderly")
AT_A_PLACE = PlanRole(agency="engawa-kugenuma", responsibility="participation", domain="withdrawal")
OUTREACH_BY_CSW = PlanRole(agency="csw-endo", responsibility="outreach", domain="withdrawal")
OUTREACH_BY_CENTRE = PlanRole(agency="ikiiki-endo", responsibility="outreach", domain="withdrawal")
VISITS_BY_A_PLACE = PlanRole(agency="engawa-kugenuma", responsibility="home-visits", domain="withdrawal")

P = MeetingPurpose


def test_each_kind_has_the_seeds_two_purposes_and_a_first_one() -> None:
    assert {p for p in P if p.kind is MeetingKind.CONSENT_BASED} == {P.PLAN_CONFIRMATION, P.PARTICIPATION_PLAN}
    assert {p for p in P if p.kind is MeetingKind.CONFIDENTIAL} == {P.NO_CONSENT_CONFERENCE, P.OUTREACH_PLAN}
    assert P.first_of(MeetingKind.CONSENT_BASED) is P.PLAN_CONFIRMATION
    assert P.first_of(MeetingKind.CONFIDENTIAL) is P.NO_CONSENT_CONFERENCE
    assert all(p.japanese.startswith(("①", "②")) for p in P)
    # A record written before purposes existed reads as its kind's ①.
    assert purpose_of(MeetingKind.CONFIDENTIAL, None) is P.NO_CONSENT_CONFERENCE
    assert purpose_of(MeetingKind.CONSENT_BASED, "participation-plan") is P.PARTICIPATION_PLAN


def test_an_event_refuses_a_purpose_of_the_other_kind() -> None:
    facts = {
        "case_id": "6f1c5d1e-0000-4000-8000-000000000001",
        "meeting_id": "6f1c5d1e-0000-4000-8000-000000000002",
        "organizer": "backup-fujisawa-shakyo",
        "participants": MEMBERS,
        "held_at": "2026-06-01T10:00:00+09:00",
    }
    assert MeetingHeld.model_validate({**facts, "kind": "confidential", "purpose": "outreach-plan"}).purpose
    assert MeetingHeld.model_validate({**facts, "kind": "confidential"}).purpose is None  # an older record
    with pytest.raises(ValidationError, match="not a purpose of a consent-based meeting"):
        MeetingHeld.model_validate({**facts, "kind": "consent-based", "purpose": "outreach-plan"})


@pytest.mark.parametrize(
    ("purpose", "roles", "consents", "problem"),
    [
        # ① a multi-agency plan: roles among those who attended.
        (P.PLAN_CONFIRMATION, (LEAD,), EVERYONE, ""),
        (P.PLAN_CONFIRMATION, (LEAD, AT_A_PLACE), EVERYONE, "not in the meeting: engawa-kugenuma"),
        # ② 参加支援: a place that did not attend takes a participation role, if consent covers it.
        (P.PARTICIPATION_PLAN, (LEAD, AT_A_PLACE), EVERYONE, ""),
        (P.PARTICIPATION_PLAN, (AT_A_PLACE,), NOT_PLACES, "(purpose case-meeting) does not cover"),
        (P.PARTICIPATION_PLAN, (LEAD,), EVERYONE, "at least one participation role"),
        (P.PARTICIPATION_PLAN, (VISITS_BY_A_PLACE,), EVERYONE, "not in the meeting: engawa-kugenuma"),
        # 支援会議 ①: a conference decides nothing.
        (P.NO_CONSENT_CONFERENCE, (LEAD,), NONE, "decides no plan"),
        # 支援会議 ②: an outreach plan among members, with an outreach role held by 社協, バックアップ or a CSW.
        (P.OUTREACH_PLAN, (OUTREACH_BY_CSW, LEAD), NONE, ""),
        (P.OUTREACH_PLAN, (LEAD,), NONE, "at least one outreach role"),
        (P.OUTREACH_PLAN, (OUTREACH_BY_CENTRE,), NONE, "outreach roles are held by"),
        (P.OUTREACH_PLAN, (OUTREACH_BY_CSW, AT_A_PLACE), NONE, "not in the meeting: engawa-kugenuma"),
        (P.PLAN_CONFIRMATION, (PlanRole(agency="no-such", responsibility="lead", domain="elderly"),), NONE, "unknown"),
    ],
)
def test_which_plan_each_purpose_decides(
    purpose: MeetingPurpose, roles: tuple[PlanRole, ...], consents: CaseConsents, problem: str
) -> None:
    found = "; ".join(rules.plan_problems(purpose, MEMBERS, roles, consents, DIRECTORY))
    assert (problem in found and bool(found)) if problem else found == ""


def test_a_meeting_changes_kind_with_consent() -> None:
    # Consent recorded: a 支援会議 whose participants the consent covers becomes a 重層的支援会議 ①.
    assert rules.upgraded(MeetingKind.CONFIDENTIAL, MEMBERS, EVERYONE, DIRECTORY) is P.PLAN_CONFIRMATION
    assert rules.upgraded(MeetingKind.CONFIDENTIAL, MEMBERS, NOT_PLACES, DIRECTORY) is None
    assert rules.upgraded(MeetingKind.CONSENT_BASED, MEMBERS, EVERYONE, DIRECTORY) is None
    # Consent withdrawn: a converted meeting becomes a conference.
    assert rules.converted_purpose(P.PARTICIPATION_PLAN) is P.NO_CONSENT_CONFERENCE
    assert rules.converted_purpose(P.OUTREACH_PLAN) is P.OUTREACH_PLAN


def test_the_city_s_figures_count_held_meetings_by_kind_and_purpose() -> None:
    rows = [
        {"kind": "consent-based", "purpose": "participation-plan", "n": 5},
        {"kind": "consent-based", "purpose": None, "n": 1},  # before purposes: ①
        {"kind": "confidential", "purpose": "no-consent-conference", "n": 4},
        {"kind": "confidential", "purpose": "outreach-plan", "n": 5},
        {"kind": "confidential", "purpose": "a-newer-purpose", "n": 2},  # unreadable here: left out
    ]
    assert meetings_held(rows) == {
        "consent-based": {"plan-confirmation": 1, "participation-plan": 5},
        "confidential": {"no-consent-conference": 4, "outreach-plan": 5},
    }


def test_a_review_meeting_keeps_the_plans_purpose_when_its_kind_is_still_lawful() -> None:
    assert rules.review_purpose(P.PARTICIPATION_PLAN, MeetingKind.CONSENT_BASED) is P.PARTICIPATION_PLAN
    assert rules.review_purpose(P.OUTREACH_PLAN, MeetingKind.CONFIDENTIAL) is P.OUTREACH_PLAN
    assert rules.review_purpose(P.PARTICIPATION_PLAN, MeetingKind.CONFIDENTIAL) is P.NO_CONSENT_CONFERENCE
    assert rules.review_purpose(P.OUTREACH_PLAN, MeetingKind.CONSENT_BASED) is P.PLAN_CONFIRMATION
