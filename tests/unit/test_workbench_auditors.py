"""The workbench's auditors' pages, their pure parts: who may open which page, who may sign in, and how the
ledger's rows are shown (agencies by their names)."""

from __future__ import annotations

from datetime import datetime

from backbone.calendar import TOKYO
from backbone.staff import StaffMember
from services.audit.page import front_page
from services.workbench.audit_pages import handoffs, named
from services.workbench.auth import _may_sign_in
from services.workbench.sessions import Session
from services.workbench.web import home_of, may_open
from tests.unit.test_workbench_rules import _workbench


def _session(agency: str | None, *roles: str) -> Session:
    return Session(b"", "sub-1", agency, frozenset(roles), "", "csrf", "", "", datetime.now(TOKYO), None)


def test_an_auditor_opens_the_auditors_pages_only_and_staff_every_page_but_those() -> None:
    auditor, staff = _session(None, "auditor"), _session("ikiiki-katase", "staff")
    # An auditor's role wins over any agency the provider might also name (as the services decide).
    named_auditor = _session("ikiiki-katase", "staff", "auditor")
    for path in ("/audit", "/audit/yearly", "/audit/timeline.csv"):
        assert may_open(auditor, path) and may_open(named_auditor, path) and not may_open(staff, path)
    for path in ("/inbox", "/inbox/rows", "/referrals/x", "/referrals/x/accept", "/sheet", "/auditing"):
        assert not may_open(auditor, path) and not may_open(named_auditor, path) and may_open(staff, path)
    for path in ("/", "/auth/logout"):
        assert may_open(auditor, path) and may_open(staff, path)
    assert (home_of(auditor), home_of(staff)) == ("/audit", "/inbox")


def test_only_an_auditor_or_a_directory_agencys_staff_may_sign_in() -> None:
    workbench = _workbench()
    assert _may_sign_in(workbench, StaffMember("s", None, frozenset({"auditor"})))
    assert _may_sign_in(workbench, StaffMember("s", "ikiiki-katase", frozenset({"staff"})))
    assert not _may_sign_in(workbench, StaffMember("s", None, frozenset({"staff"})))  # no agency
    assert not _may_sign_in(workbench, StaffMember("s", "no-such-agency", frozenset({"staff"})))
    assert not _may_sign_in(workbench, StaffMember("s", "ikiiki-katase", frozenset()))  # no staff role


def test_the_ledgers_rows_name_agencies_by_their_names_and_show_the_hand_offs() -> None:
    workbench = _workbench()
    assert named(workbench, "chiku-fukushi-katase → ikiiki-katase (staff 0f1e)") == (
        "地区福祉窓口（片瀬） → いきいきサポートセンター片瀬 (staff 0f1e)"
    )
    assert named(workbench, "auditor") == "auditor"  # not an agency of the directory: left as it is
    rows = [
        {"time": "2026-12-03 10:00:00", "what": "相談受付", "data": {"receiving_agency": "chiku-fukushi-katase"}},
        {
            "time": "2026-12-03 10:00:01",
            "what": "つなぎ提案",
            "data": {"referral_id": "r1", "from_agency": "chiku-fukushi-katase", "to_agency": "ikiiki-katase"},
        },
        {"time": "2026-12-03 10:05:00", "what": "受諾", "data": {"referral_id": "r1", "agency": "ikiiki-katase"}},
    ]
    assert handoffs(workbench, rows) == [
        {
            "time": "2026-12-03 10:00:01",
            "from": "地区福祉窓口（片瀬）",
            "to": "いきいきサポートセンター片瀬",
            "ended": "受諾",
        }
    ]


def test_the_audit_services_front_page_links_to_the_workbench_and_asks_for_no_token() -> None:
    page = front_page('https://workbench.city.example/"x')
    assert 'href="https://workbench.city.example/&quot;x/audit"' in page
    assert "<input" not in page and "<script" not in page
