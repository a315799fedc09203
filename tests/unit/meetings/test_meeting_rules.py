"""The law's rules for case meetings, as a table of cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest
from icalendar import Calendar

from backbone import directory
from backbone.calendar import TOKYO, fiscal_year, reiwa
from backbone.consent import Consent
from backbone.invitations import Invitation, render
from schemas.events import ConsentPurpose, ConsentScope, MeetingKind
from schemas.vocabulary import AgencyType
from services.meetings import rules, scheduling
from services.meetings.rules import AfterWithdrawal, CaseConsents

DIRECTORY = directory.load()
MEMBERS = ("backup-fujisawa-shakyo", "csw-endo", "ikiiki-endo")
WITH_A_PLACE = (*MEMBERS, "engawa-kugenuma")  # a community place: not a 支援会議 member
MEETING = frozenset({ConsentPurpose.CASE_MEETING})

EVERYONE = CaseConsents.of_one(Consent(ConsentScope(all_programme_agencies=True), MEETING))
PARTIAL = CaseConsents.of_one(Consent(ConsentScope(agencies=("backup-fujisawa-shakyo",),
                                agency_types=(AgencyType.DISTRICT_CSW,)), MEETING))  # fmt: skip
WRONG_PURPOSE = CaseConsents.of_one(
    Consent(ConsentScope(all_programme_agencies=True), frozenset({ConsentPurpose.SUPPORT}))
)
NONE = CaseConsents.of_one()


@pytest.mark.parametrize(
    ("kind", "participants", "consents", "lawful", "names"),
    [
        (MeetingKind.CONSENT_BASED, MEMBERS, EVERYONE, True, ""),
        (MeetingKind.CONSENT_BASED, WITH_A_PLACE, EVERYONE, True, ""),
        (MeetingKind.CONSENT_BASED, MEMBERS, PARTIAL, False, "ikiiki-endo"),
        (MeetingKind.CONSENT_BASED, MEMBERS, NONE, False, "backup-fujisawa-shakyo, csw-endo, ikiiki-endo"),
        (MeetingKind.CONSENT_BASED, MEMBERS, WRONG_PURPOSE, False, "ikiiki-endo"),
        (MeetingKind.CONFIDENTIAL, MEMBERS, NONE, True, ""),
        (MeetingKind.CONFIDENTIAL, MEMBERS, EVERYONE, True, ""),
        (MeetingKind.CONFIDENTIAL, WITH_A_PLACE, NONE, False, "engawa-kugenuma"),
        (MeetingKind.CONFIDENTIAL, WITH_A_PLACE, EVERYONE, False, "engawa-kugenuma"),
        (MeetingKind.CONFIDENTIAL, ("no-such-agency",), NONE, False, "unknown agencies: no-such-agency"),
    ],
)
def test_the_legal_rules(kind: MeetingKind, participants: tuple[str, ...], consents: CaseConsents, lawful: bool,
                         names: str) -> None:  # fmt: skip
    found = rules.problems(kind, participants, consents, DIRECTORY)
    assert (not found) == lawful
    assert names in " ".join(found)


@pytest.mark.parametrize(
    ("participants", "remaining", "expected"),
    [(MEMBERS, NONE, AfterWithdrawal.CONVERT), (WITH_A_PLACE, NONE, AfterWithdrawal.CANCEL),
     (MEMBERS, EVERYONE, AfterWithdrawal.KEEP), (MEMBERS, PARTIAL, AfterWithdrawal.CONVERT)],
)  # fmt: skip
def test_withdrawn_consent_converts_or_cancels_by_the_written_rule(
    participants: tuple[str, ...], remaining: CaseConsents, expected: AfterWithdrawal
) -> None:
    assert rules.after_withdrawal(MeetingKind.CONSENT_BASED, participants, remaining, DIRECTORY) is expected
    assert rules.after_withdrawal(MeetingKind.CONFIDENTIAL, participants, remaining, DIRECTORY) is AfterWithdrawal.KEEP


def test_a_proposal_without_consent_is_a_confidential_meeting_of_members_only() -> None:
    assert rules.lawful_proposal(WITH_A_PLACE, NONE, DIRECTORY) == (MeetingKind.CONFIDENTIAL, MEMBERS)
    assert rules.lawful_proposal(WITH_A_PLACE, EVERYONE, DIRECTORY) == (MeetingKind.CONSENT_BASED, WITH_A_PLACE)


def test_a_households_case_meets_with_consent_only_when_each_person_consented() -> None:
    """8050: the parent consented to every agency, the withdrawn child to none. The meeting speaks of both."""
    parent = Consent(ConsentScope(all_programme_agencies=True), MEETING)
    household = CaseConsents(((parent,), ()))
    assert rules.not_covered_by_consent(MEMBERS, household, DIRECTORY) == list(MEMBERS)
    assert rules.lawful_proposal(MEMBERS, household, DIRECTORY) == (MeetingKind.CONFIDENTIAL, MEMBERS)
    child = Consent(ConsentScope(agency_types=(AgencyType.DISTRICT_CSW,)), MEETING)
    both = CaseConsents(((parent,), (child,)))
    assert rules.not_covered_by_consent(MEMBERS, both, DIRECTORY) == ["backup-fujisawa-shakyo", "ikiiki-endo"]
    assert rules.problems(MeetingKind.CONSENT_BASED, ("csw-endo",), both, DIRECTORY) == []
    assert rules.not_covered_by_consent(MEMBERS, CaseConsents(()), DIRECTORY) == list(MEMBERS)  # nobody known yet


def test_fiscal_years_turn_on_the_first_of_april_in_tokyo() -> None:
    last_moment = datetime(2024, 3, 31, 23, 59, tzinfo=TOKYO)
    assert fiscal_year(last_moment) == 2023 and fiscal_year(last_moment + timedelta(minutes=1)) == 2024
    assert fiscal_year(datetime(2024, 3, 31, 15, 30, tzinfo=UTC)) == 2024  # already 1 April 00:30 in Tokyo
    assert reiwa(2023) == "令和5年度" and reiwa(2019) == "令和元年度"


def test_a_proposal_avoids_clashes_and_stays_in_business_hours() -> None:
    friday = datetime(2026, 5, 1, 12, tzinfo=TOKYO)  # Golden Week follows
    start, end = scheduling.propose(friday, scheduling.Busy([], {}))
    assert (start, end) == (datetime(2026, 5, 7, 10, tzinfo=TOKYO), datetime(2026, 5, 7, 11, tzinfo=TOKYO))
    same_case = scheduling.Busy([(start, end)], {})
    assert scheduling.propose(friday, same_case)[0] == datetime(2026, 5, 7, 11, tzinfo=TOKYO)
    busy_team = scheduling.Busy([], {"csw-endo": [(start, end)] * scheduling.PARALLEL_PER_AGENCY})
    assert scheduling.propose(friday, busy_team)[0] == datetime(2026, 5, 7, 11, tzinfo=TOKYO)
    one_more = scheduling.Busy([], {"csw-endo": [(start, end)] * (scheduling.PARALLEL_PER_AGENCY - 1)})
    assert scheduling.propose(friday, one_more)[0] == start
    assert scheduling.within_business_hours(start, end)
    assert not scheduling.within_business_hours(
        datetime(2026, 5, 5, 10, tzinfo=TOKYO), datetime(2026, 5, 5, 11, tzinfo=TOKYO)
    )


def test_invitations_are_icalendar_with_a_stable_uid_a_growing_sequence_and_cancellation() -> None:
    meeting_id, case_id = uuid4(), uuid4()
    start = datetime(2026, 12, 1, 10, tzinfo=TOKYO)
    base = {"meeting_id": meeting_id, "case_id": case_id, "kind": MeetingKind.CONFIDENTIAL,
            "organizer": ("backup-fujisawa-shakyo", "oncall@backup-fujisawa-shakyo.fujisawa-backbone.invalid"),
            "attendees": tuple((a, f"oncall@{a}.fujisawa-backbone.invalid") for a in MEMBERS)}  # fmt: skip
    first = Calendar.from_ical(render(Invitation(**base, starts_at=start, ends_at=start + timedelta(hours=1),
                                                 sequence=0)))  # fmt: skip
    moved = Calendar.from_ical(render(Invitation(**base, starts_at=start + timedelta(days=1),
                                                 ends_at=start + timedelta(days=1, hours=1), sequence=1)))  # fmt: skip
    cancelled = Calendar.from_ical(render(Invitation(**base, starts_at=start, ends_at=start + timedelta(hours=1),
                                                     sequence=2, cancelled=True)))  # fmt: skip
    events = [next(iter(c.walk("VEVENT"))) for c in (first, moved, cancelled)]
    assert len({str(e["UID"]) for e in events}) == 1
    assert [int(e["SEQUENCE"]) for e in events] == [0, 1, 2]
    assert events[0].decoded("DTSTART") == start and events[0].decoded("DTSTART").utcoffset() == timedelta(hours=9)
    assert str(first["METHOD"]) == "REQUEST" and str(cancelled["METHOD"]) == "CANCEL"
    assert str(events[2]["STATUS"]) == "CANCELLED" and str(events[0]["CLASS"]) == "CONFIDENTIAL"
    assert len(events[0].get("ATTENDEE")) == 3
    assert str(case_id)[:8] in str(events[0]["SUMMARY"]) and "支援会議" in str(events[0]["SUMMARY"])
