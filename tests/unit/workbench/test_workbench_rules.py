"""The workbench's pure parts: time left, PKCE, where a sign-in may return to, and the answer forms."""

from __future__ import annotations

import base64
import hashlib
import uuid
from datetime import datetime, timedelta
from typing import cast

import httpx
import pytest
from pydantic import ValidationError
from starlette.requests import Request

from backbone.calendar import TOKYO
from backbone.directory import load
from backbone.settings import DatabaseSettings
from backbone.staff import IdentitySettings
from services.workbench.apis import Referral, StaffApis
from services.workbench.auth import local_path
from services.workbench.deadlines import business_days_between, time_left
from services.workbench.oidc import Endpoints, Provider, new_challenge, s256
from services.workbench.pages import InboxPage, _body, _rows
from services.workbench.sessions import Session, Sessions
from services.workbench.settings import WorkbenchOptions, WorkbenchSettings
from services.workbench.text import LABELS, decline_reasons
from services.workbench.web import Workbench, page_environment, render


def test_an_urgent_referral_shows_hours_and_minutes_left() -> None:
    now = datetime(2026, 12, 3, 10, 0, tzinfo=TOKYO)
    left = time_left(urgent=True, respond_by=now + timedelta(hours=3, minutes=20), overdue_at=None, now=now)
    assert (left.overdue, left.ja, left.en) == (False, "あと3時間20分", "3 h 20 min left")


def test_a_normal_referral_counts_business_days_over_a_weekend_and_a_holiday() -> None:
    # Friday 20 November 2026; Monday 23 November is 勤労感謝の日, so Tuesday 24th is the first business day.
    friday = datetime(2026, 11, 20, 9, 0, tzinfo=TOKYO)
    deadline = datetime(2026, 11, 25, 17, 0, tzinfo=TOKYO)
    assert business_days_between(friday, deadline) == 2
    left = time_left(urgent=False, respond_by=deadline, overdue_at=None, now=friday)
    assert left.ja == "あと2営業日（17:00まで）"
    assert left.text("en") == "2 business days left (by 17:00)"


def test_a_deadline_today_says_so_and_a_passed_one_is_overdue() -> None:
    morning = datetime(2026, 12, 3, 9, 0, tzinfo=TOKYO)
    today = morning.replace(hour=17)
    assert time_left(urgent=False, respond_by=today, overdue_at=None, now=morning).ja == "本日17:00まで"
    late = time_left(urgent=False, respond_by=today, overdue_at=None, now=today + timedelta(hours=5))
    assert late.overdue and late.ja == "期限超過（5時間経過）"
    marked = time_left(urgent=True, respond_by=today, overdue_at=morning, now=morning)
    assert marked.overdue  # the referral service says it is overdue: so does the page


def test_the_pkce_challenge_is_the_s256_of_the_verifier() -> None:
    challenge = new_challenge()
    expected = base64.urlsafe_b64encode(hashlib.sha256(challenge.code_verifier.encode()).digest()).rstrip(b"=")
    assert s256(challenge.code_verifier) == expected.decode()
    assert 43 <= len(challenge.code_verifier) <= 128  # RFC 7636 §4.1
    assert len({new_challenge().state for _ in range(20)}) == 20


def test_a_sign_in_returns_to_a_path_of_the_workbench_only() -> None:
    assert local_path("/referrals/abc") == "/referrals/abc"
    for elsewhere in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "", None, "inbox"):
        assert local_path(elsewhere) == "/inbox"


def test_a_decline_needs_a_reason_from_the_list_and_a_short_note() -> None:
    assert _body("decline", {"reason": "no-capacity", "note": " 受入れ枠なし "}) == (
        {"reason": "no-capacity", "note": "受入れ枠なし"},
        [],
    )
    assert _body("decline", {"reason": "busy", "note": "x" * 201})[1] == ["reason", "note"]
    assert _body("complete", {"outcome": "resolved"}) == ({"outcome": "resolved"}, [])
    assert _body("complete", {})[1] == ["outcome"]
    assert _body("accept", {}) == (None, [])


def test_reasons_are_offered_in_japanese_and_english() -> None:
    assert ("no-capacity", "受入れ枠なし") in decline_reasons("ja")
    assert ("no-capacity", "no capacity") in decline_reasons("en")
    assert all(ja and en for ja, en in LABELS.values())


def test_cookies_are_secure_behind_tls_and_the_origin_is_the_public_urls() -> None:
    local = WorkbenchOptions()
    assert not local.secure_cookies and local.origin == "http://127.0.0.1:8106"
    public = WorkbenchOptions(public_url="https://workbench.city.example/base")
    assert public.secure_cookies and public.origin == "https://workbench.city.example"
    assert public.redirect_uri == "https://workbench.city.example/base/auth/callback"


def _workbench() -> Workbench:
    settings = WorkbenchSettings(
        database=DatabaseSettings(dsn="postgresql://nobody@127.0.0.1/none"),
        identity=IdentitySettings(issuer="http://127.0.0.1:18080/realms/fujisawa"),
    )
    # Rendering needs the settings, the directory and the templates only.
    return Workbench(
        settings, cast("Sessions", None), cast("Provider", None), cast("StaffApis", None), load(), page_environment()
    )


def _referral(**changes: object) -> Referral:
    base = {
        "referral_id": uuid.uuid4(),
        "case_id": uuid.uuid4(),
        "consultation_id": uuid.uuid4(),
        "from_agency": "chiku-fukushi-katase",
        "to_agency": "ikiiki-katase",
        "reason": "elderly: the district's agency",
        "attempt": 1,
        "state": "proposed",
        "waitlisted": False,
        "urgency": "urgent",
        "respond_by": datetime.now(TOKYO) - timedelta(hours=1),
        "overdue_at": datetime.now(TOKYO),
    }
    return Referral.model_validate(base | changes)


def test_the_pages_render_in_both_languages_and_escape_what_they_show() -> None:
    workbench = _workbench()
    request = Request({"type": "http", "method": "GET", "path": "/inbox", "query_string": b"lang=en", "headers": []})
    late = _referral()
    nine_days = datetime.now(TOKYO) + timedelta(days=9)
    rows = _rows(workbench, [_referral(urgency="normal", respond_by=nine_days), late], late.to_agency)
    assert rows[0].referral is late  # urgent first
    arrived = _rows(
        workbench, [_referral(urgency="normal", respond_by=datetime.now(TOKYO) + timedelta(days=2))], late.to_agency
    )
    page = InboxPage(rows, arrived, number=2, total=250, since=datetime.now(TOKYO))
    assert (page.first, page.last, page.pages) == (101, 102, 3)
    # An arrival whose deadline places it on this page moves to the top: it still counts among the page's rows.
    assert InboxPage(rows[:1], arrived, number=1, total=2, since=datetime.now(TOKYO), moved_up=1).last == 2
    answer = render(request, workbench, "inbox_rows.html", "en", page=page)
    assert "wb_lang=en" in answer.headers["set-cookie"]  # the reader's choice is remembered
    english = answer.body.decode()
    assert "Overdue" in english and "urgent" in english and "地区福祉窓口（片瀬）" in english
    # The referral that arrived since the page was opened comes first, marked new.
    assert english.index(str(arrived[0].referral.referral_id)) < english.index(str(late.referral_id))
    assert english.count('class="badge arrived"') == 1
    session = Session(
        b"",
        "sub-1",
        "ikiiki-katase",
        frozenset({"staff"}),
        "<b>江ノ島</b>",
        "csrf-1",
        "",
        "",
        datetime.now(TOKYO),
        None,
    )
    page = render(
        request,
        workbench,
        "referral.html",
        "ja",
        session=session,
        referral=late,
        left=rows[0].left,
        disclosure=None,
        answers=("accept", "decline"),
        reasons=decline_reasons("ja"),
        outcomes=[],
    )
    html = page.body.decode()
    assert "同意がないため表示できません" in html and "受入れ枠なし" in html
    assert html.count('name="csrf" value="csrf-1"') == 3  # sign-out, accept, decline
    assert "<b>江ノ島</b>" not in html and "&lt;b&gt;" in html
    assert (
        page.headers["cache-control"] == "no-store"
        and "frame-ancestors 'none'" in page.headers["content-security-policy"]
    )


async def test_the_sign_in_asks_for_the_configured_scopes_and_openid_always_comes_first() -> None:
    """Entra ID issues an access token for the backbone only when the backbone's own scope is asked for."""
    options = WorkbenchOptions(scopes="openid api://backbone/access")
    identity = IdentitySettings(issuer="https://id.example.invalid/realms/fujisawa")
    async with httpx.AsyncClient() as http:
        provider = Provider(identity, options, http)
        provider._endpoints = Endpoints("https://id.example.invalid/auth", "https://id.example.invalid/token", None)
        url = await provider.authorization_url(new_challenge(), locale="ja")
    assert "scope=openid+api%3A%2F%2Fbackbone%2Faccess" in url
    assert WorkbenchOptions().scopes == "openid"
    for wrong in ("api://backbone/access", "openid\napi", 'openid "x"'):
        with pytest.raises(ValidationError):
            WorkbenchOptions(scopes=wrong)
