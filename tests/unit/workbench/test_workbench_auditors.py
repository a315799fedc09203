"""The workbench's auditors' pages, their pure parts: who may open which page, who may sign in, and how the
ledger's rows are shown (agencies by their names)."""

from __future__ import annotations

from datetime import datetime

from starlette.requests import Request

from backbone.calendar import TOKYO
from backbone.staff import StaffMember
from services.audit.page import front_page
from services.audit.queries import UNCODED, reason_words
from services.workbench.audit_pages import KINDS, handoffs, named
from services.workbench.auth import _may_sign_in
from services.workbench.sessions import Session
from services.workbench.web import home_of, language_link, may_open, render
from tests.unit.workbench.test_workbench_rules import _workbench


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


def _request(method: str, path: str, query: str) -> Request:
    return Request({"type": "http", "method": method, "path": path, "query_string": query.encode(), "headers": []})


def test_switching_the_language_keeps_the_search_and_replaces_only_lang() -> None:
    workbench, case_id = _workbench(), "0b9f6c1e-4a7d-4f1e-9d3c-2f6a8b7c5d4e"
    search = _request("GET", "/audit", f"kind=case_id&key={case_id}&lang=ja")
    assert language_link(search, "/audit", "en") == f"/audit?kind=case_id&key={case_id}&lang=en"
    auditor = _session(None, "auditor")
    page = render(search, workbench, "audit.html", "ja", session=auditor, kinds=KINDS, kind="case_id", key=case_id)
    assert f'href="/audit?kind=case_id&amp;key={case_id}&amp;lang=en"' in page.body.decode()
    # What the query holds is passed on encoded, never as markup or as a second parameter.
    odd = _request("GET", "/audit/disclosures", "case_id=%22%3E%3Cb%3E%26x%3D1")
    assert language_link(odd, "/audit/disclosures", "en") == "/audit/disclosures?case_id=%22%3E%3Cb%3E%26x%3D1&lang=en"
    # A page without a query, a form post (no page of its own: the inbox), and sign-in's single-use parameters.
    assert language_link(_request("GET", "/audit/yearly", ""), "/audit/yearly", "ja") == "/audit/yearly?lang=ja"
    assert language_link(_request("POST", "/referrals/x/accept", "lang=en"), "/inbox", "ja") == "/inbox?lang=ja"
    callback = _request("GET", "/auth/callback", "code=c0de&state=st4te")
    assert language_link(callback, "/auth/callback", "en") == "/auth/callback?lang=en"
    # A refusal repeats nothing of what was asked, so the id of someone else's case is not on the page.
    refused = render(search, workbench, "error.html", "ja", status=404, session=auditor, message=("無", "none"))
    assert case_id not in refused.body.decode() and 'href="/audit?lang=en"' in refused.body.decode()


def test_the_yearly_figures_say_uncoded_reasons_in_japanese_and_english() -> None:
    """audit's API words a reason from before the codes in the language asked for, for every client."""
    declined = "jp.fujisawa.welfare.referral.referral.declined.v1"
    assert reason_words(declined, UNCODED, "ja") == "理由コードなし（コード化以前の記録）"
    assert reason_words(declined, UNCODED, "en") == "no reason code (recorded before the codes)"
    assert reason_words(declined, "no-capacity", "en") == "no capacity"
    assert reason_words(declined, "no-capacity", "ja") not in ("no-capacity", "")
