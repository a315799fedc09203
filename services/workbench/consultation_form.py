"""つなぐシート: a staff member submits a consultation from a form, to intake, with their own token.

The form carries a one-time sheet key. intake's Idempotency-Key is derived from it and the session's secret
(the CSRF token), so pressing 送信 twice, or sending the same sheet again, makes one consultation and shows the
first answer, and a key copied into another session's form is another key. After a submit the browser is sent
to the result's own page (a GET), so reloading it sends nothing again.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import re
import secrets
from typing import Any, Literal
from urllib.parse import parse_qs, urlencode
from uuid import UUID

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import RedirectResponse, Response

from schemas.vocabulary import COORDINATION_THEMES, AgencyType, Channel, District, SupportDomain
from services.workbench import consultation_sheet as sheet
from services.workbench import text
from services.workbench.apis import Referral, ServiceUnavailableError
from services.workbench.sessions import Session
from services.workbench.web import (
    Language,
    SignedIn,
    Workbench,
    WorkbenchState,
    form_of,
    not_found,
    render,
    to_sign_in,
    unavailable,
)

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

SHEET_FORM_BYTES = 64 * 1024
"""A summary of 4,000 characters of Japanese is about 36 KB once URL-encoded."""
_SHEET_KEY = re.compile(r"^[A-Za-z0-9_-]{32,64}$")
SENT_PATIENCE = 12
"""How many times (a quarter of a second apart) the result page asks referral for a case it does not know yet."""


def idempotency_key(session: Session, sheet_key: str) -> str:
    """intake's Idempotency-Key of a sheet: bound to the session, so only the form it rendered can replay it."""
    return "sheet-" + hmac.new(session.csrf_token.encode(), sheet_key.encode(), "sha256").hexdigest()[:40]


@router.get("/sheet")
async def blank_sheet(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    return _sheet(request, workbench, lang, session, sheet.SheetForm(), problems=set())


@router.post("/sheet")
async def submit_sheet(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    await form_of(request, workbench, session, limit=SHEET_FORM_BYTES)
    assert session is not None  # form_of refuses a post without a session
    form = sheet.SheetForm(parse_qs((await request.body()).decode("utf-8", "replace"), keep_blank_values=True))
    sheet_key = form.get("sheet_key")
    if not _SHEET_KEY.match(sheet_key) or session.agency_id is None:
        raise HTTPException(403, "Refused: the form has no sheet key. Reload the page and try again.")
    body, problems = sheet.submission(form, agency_id=session.agency_id, subject=session.subject)
    if problems:  # not sent: show every problem at once, those intake would find too
        return _sheet(request, workbench, lang, session, form, problems=problems | sheet.also_wrong(body), status=422)
    try:
        sent = await workbench.apis.submit_consultation(
            session.access_token, body, key=idempotency_key(session, sheet_key)
        )
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error)
    if sent.status in (200, 201):
        kind = "new" if sent.answer["new_case"] else "joined"
        shown = {"again": "1"} if sent.status == 200 else {}
        if sent.answer.get("household_id"):  # shown, so that the next member's sheet can name it
            shown["household"] = str(sent.answer["household_id"])
        query = f"?{urlencode(shown)}" if shown else ""
        result = f"/sheet/sent/{sent.answer['case_id']}/{sent.answer['consultation_id']}/{kind}{query}"
        return RedirectResponse(result, status_code=303)
    if sent.status == 422:
        return _sheet(request, workbench, lang, session, form, problems=sheet.fields_of(sent.answer), status=422)
    if sent.status == 409:  # this sheet was sent before with other contents: a fresh sheet key for a new one
        form.values.pop("sheet_key", None)
        return _sheet(
            request, workbench, lang, session, form, problems=set(), status=409, notice=text.SHEET_SENT_BEFORE
        )
    if sent.status == 401:  # the provider ended the sign-in meanwhile: the page asks to sign in again
        raise HTTPException(401, "intake refused the staff member's token.")
    log.info("intake refused a sheet with %s", sent.status)
    message = text.REFUSED.get(sent.status, text.REFUSED[422])
    return render(request, workbench, "error.html", lang, status=sent.status, session=session, message=message)


@router.get("/sheet/sent/{case_id}/{consultation_id}/{kind}")
async def sheet_sent(
    case_id: UUID,
    consultation_id: UUID,
    kind: Literal["new", "joined"],
    request: Request,
    *,
    workbench: WorkbenchState,
    lang: Language,
    session: SignedIn,
) -> Response:
    """The result of a sheet, with the referrals of its consultation as referral answers them to this agency
    now (the agency that took the consultation in is involved in its case, so it follows the answers)."""
    if session is None:
        return to_sign_in(request)
    try:
        referrals = await _referrals_once_known(workbench, session, case_id)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error)
    if referrals is None:
        return not_found(request, workbench, lang, session)
    household = _household_shown(request.query_params.get("household"))
    return render(
        request,
        workbench,
        "consultation_sent.html",
        lang,
        session=session,
        case_id=case_id,
        consultation_id=consultation_id,
        new_case=kind == "new",
        again=request.query_params.get("again") == "1",
        household_id=household,
        referrals=[r for r in referrals if r.consultation_id == consultation_id],
        here=request.url.path + (f"?household={household}" if household else ""),
    )


async def _referrals_once_known(workbench: Workbench, session: Session, case_id: UUID) -> list[Referral] | None:
    """The case's referrals. The browser arrives here moments after intake's answer, and referral learns that the
    agency took the consultation in when it reads intake's event: until then it answers as for a case the agency
    has no part in. So it is asked again for a few seconds (bounded) before the page says there is nothing."""
    for _ in range(SENT_PATIENCE):
        referrals = await workbench.apis.referrals_of_case(session.access_token, case_id)
        if referrals is not None:
            return referrals
        await asyncio.sleep(0.25)
    return None


def _household_shown(value: str | None) -> UUID | None:
    """The household the sheet named or started, as intake answered it (only ever an id: anything else is not shown)."""
    try:
        return UUID(value) if value else None
    except ValueError:
        return None


def _sheet(
    request: Request,
    workbench: Workbench,
    lang: str,
    session: Session,
    form: sheet.SheetForm,
    *,
    problems: set[str],
    status: int = 200,
    **context: Any,
) -> Response:
    born: Any = None
    try:
        born = sheet.birth_date(
            form.get("birth_era", sheet.WESTERN), form.get("birth_year"), form.get("birth_month"), form.get("birth_day")
        )
    except sheet.BirthDateError:
        born = None
    return render(
        request,
        workbench,
        "consultation_form.html",
        lang,
        status=status,
        session=session,
        form=form,
        problems=problems,
        sheet_key=form.get("sheet_key") or secrets.token_urlsafe(32),
        born=sheet.era_text(born, lang) if born else "",
        eras=sheet.ERAS,
        eras_json=json.dumps([[e.key, e.ja, e.en, e.starts.isoformat()] for e in sheet.ERAS], ensure_ascii=False),
        western=sheet.WESTERN,
        channels=list(Channel),
        districts=list(District),
        domains=[d for d in SupportDomain if d not in COORDINATION_THEMES],
        themes=[d for d in SupportDomain if d in COORDINATION_THEMES],
        agency_types=sheet.consent_types(),
        agencies=[a for a in workbench.directory.agencies.values() if a.type is not AgencyType.AUDITOR],
        **context,
    )
