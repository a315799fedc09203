"""The auditors' pages (監査): a timeline by case, referral or trace id with its CSV, the disclosures, the
unanswered referrals per agency, and the yearly figures.

Only a session with the auditor role opens them (web.may_open), and they read nothing themselves: each is
a query to audit's API with the auditor's own access token, so audit checks the role again and records
the query in the ledger. Agencies are shown by their names in the directory, not by their ids.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from backbone.calendar import fiscal_year as this_fiscal_year
from services.workbench import text
from services.workbench.apis import ServiceUnavailableError
from services.workbench.audit_apis import AuditorApis
from services.workbench.web import (
    AUDITORS_PAGES,
    Language,
    SignedIn,
    Workbench,
    WorkbenchState,
    render,
    secure,
    to_sign_in,
    unavailable,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix=AUDITORS_PAGES, include_in_schema=False)

KINDS: dict[str, str] = {
    "case_id": "audit_kind_case",
    "referral_id": "audit_kind_referral",
    "trace_id": "audit_kind_trace",
}
TRACE_ID = re.compile(r"[0-9a-f]{32}")
AGENCY_ID = re.compile(r"[a-z][a-z0-9-]+")
FIRST_FISCAL_YEAR, LAST_FISCAL_YEAR = 2019, 9998  # as audit's API accepts them


def _ledger(workbench: Workbench) -> AuditorApis:
    return AuditorApis(workbench.settings.workbench.audit_url, workbench.apis.http)


def _is_uuid(value: str) -> bool:
    try:
        UUID(value)
    except ValueError:
        return False
    return True


def _selection(request: Request) -> tuple[str, str, bool]:
    """What to trace (kind, key) and whether the key is an id of that kind."""
    kind = request.query_params.get("kind", "case_id")
    kind = kind if kind in KINDS else "case_id"
    key = request.query_params.get("key", "").strip().lower()
    return kind, key, bool(TRACE_ID.fullmatch(key)) if kind == "trace_id" else _is_uuid(key)


def named(workbench: Workbench, who: str) -> str:
    """audit's "who" with each agency id of the directory replaced by the agency's name."""
    return AGENCY_ID.sub(
        lambda found: workbench.agency_name(found[0]) if workbench.directory.agency(found[0]) else found[0], who
    )


def handoffs(workbench: Workbench, rows: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Who referred to whom and when, each with how that referral ended so far (the last event of it)."""
    ended: dict[str, str] = {}
    for row in rows:
        data = row.get("data") or {}
        if data.get("referral_id") and not data.get("from_agency"):
            ended[data["referral_id"]] = row["what"]
    return [
        {
            "time": row["time"],
            "from": workbench.agency_name(data["from_agency"]),
            "to": workbench.agency_name(data["to_agency"]),
            "ended": ended.get(data.get("referral_id", ""), ""),
        }
        for row in rows
        if (data := row.get("data") or {}).get("from_agency") and data.get("to_agency")
    ]


@router.get("")
async def search(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    kind, key, valid = _selection(request)
    rows: list[dict[str, Any]] | None = None
    if key and valid:
        try:
            rows = await _ledger(workbench).timeline(session.access_token, kind=kind, key=key, lang=lang)
        except ServiceUnavailableError as error:
            return unavailable(request, workbench, lang, session, error, message=text.AUDIT_UNAVAILABLE)
        for row in rows:
            row["who"] = named(workbench, row.get("who") or "")
    problems = ["key"] if key and not valid else []
    return render(
        request,
        workbench,
        "audit.html",
        lang,
        status=422 if problems else 200,
        session=session,
        kinds=KINDS,
        kind=kind,
        key=key,
        rows=rows,
        handoffs=handoffs(workbench, rows or []),
        problems=problems,
    )


@router.get("/timeline.csv")
async def timeline_csv(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    """audit's CSV export of the timeline, passed on as a download (the browser holds no token to ask audit)."""
    if session is None:
        return to_sign_in(request)
    kind, key, valid = _selection(request)
    if not valid:
        return render(
            request, workbench, "error.html", lang, status=422, session=session, message=text.FORM_PROBLEMS["key"]
        )
    try:
        answer = await _ledger(workbench).timeline_csv(session.access_token, kind=kind, key=key, lang=lang)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error, message=text.AUDIT_UNAVAILABLE)
    disposition = answer.headers.get("content-disposition", 'attachment; filename="timeline.csv"')
    response = Response(
        answer.content, media_type="text/csv; charset=utf-8", headers={"Content-Disposition": disposition}
    )
    return secure(response, workbench)


@router.get("/disclosures")
async def disclosures(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    case_id = request.query_params.get("case_id", "").strip().lower()
    agency = request.query_params.get("agency", "")
    agency = agency if workbench.directory.agency(agency) else ""
    problems = ["case_id"] if case_id and not _is_uuid(case_id) else []
    rows: list[dict[str, Any]] = []
    if not problems:
        try:
            rows = await _ledger(workbench).disclosures(
                session.access_token, case_id=case_id or None, agency=agency or None
            )
        except ServiceUnavailableError as error:
            return unavailable(request, workbench, lang, session, error, message=text.AUDIT_UNAVAILABLE)
    for row in rows:
        row["occurred_at"] = datetime.fromisoformat(row["occurred_at"]) if row.get("occurred_at") else None
    agencies = sorted(workbench.directory.agencies.values(), key=lambda entry: entry.id)
    return render(
        request,
        workbench,
        "audit_disclosures.html",
        lang,
        status=422 if problems else 200,
        session=session,
        rows=rows,
        case_id=case_id,
        agency=agency,
        agencies=agencies,
        problems=problems,
    )


@router.get("/unanswered")
async def unanswered(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    try:
        rows = await _ledger(workbench).unanswered(session.access_token)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error, message=text.AUDIT_UNAVAILABLE)
    return render(request, workbench, "audit_unanswered.html", lang, session=session, rows=rows)


@router.get("/yearly")
async def yearly(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    asked = request.query_params.get("fiscal_year", "").strip()
    fiscal_year = int(asked) if asked.isdigit() else this_fiscal_year(datetime.now(UTC))
    problems = (
        []
        if not asked or (asked.isdigit() and FIRST_FISCAL_YEAR <= fiscal_year <= LAST_FISCAL_YEAR)
        else ["fiscal_year"]
    )
    figures: dict[str, Any] | None = None
    if not problems:
        try:
            figures = await _ledger(workbench).yearly(session.access_token, fiscal_year=fiscal_year, lang=lang)
        except ServiceUnavailableError as error:
            return unavailable(request, workbench, lang, session, error, message=text.AUDIT_UNAVAILABLE)
    return render(
        request,
        workbench,
        "audit_yearly.html",
        lang,
        status=422 if problems else 200,
        session=session,
        fiscal_year=asked or str(fiscal_year),
        figures=figures,
        problems=problems,
    )
