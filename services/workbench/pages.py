"""The pages: the front page (sign in), the inbox (受付箱) with its live rows, and a referral with its answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.events import DeclineReason
from services.workbench import text
from services.workbench.apis import Referral, ServiceUnavailableError
from services.workbench.deadlines import TimeLeft, time_left
from services.workbench.sessions import Session
from services.workbench.web import Language, SignedIn, Workbench, WorkbenchState, form_of, home_of, render

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

# Which answers a page offers in each state (referral's lifecycle decides; this only hides the impossible ones).
ANSWERS: dict[str, tuple[str, ...]] = {
    "proposed": ("accept", "decline"),
    "accepted": ("start", "complete"),
    "in-progress": ("complete",),
}
NOTE_LIMIT = 200


@dataclass(frozen=True)
class InboxRow:
    referral: Referral
    left: TimeLeft
    from_name: str


def _to_sign_in(request: Request) -> Response:
    return RedirectResponse(f"/?next={quote(request.url.path)}", status_code=303)


def _rows(workbench: Workbench, referrals: list[Referral]) -> list[InboxRow]:
    now = datetime.now(UTC)
    ordered = sorted(referrals, key=lambda r: (r.urgency != "urgent", r.respond_by))
    return [
        InboxRow(
            r,
            time_left(urgent=r.urgency == "urgent", respond_by=r.respond_by, overdue_at=r.overdue_at, now=now),
            workbench.agency_name(r.from_agency),
        )
        for r in ordered
    ]


def _unavailable(request: Request, workbench: Workbench, lang: str, session: Session, error: Exception) -> Response:
    log.warning("a service the workbench calls failed: %s", error)
    return render(request, workbench, "error.html", lang, status=503, session=session, message=text.UNAVAILABLE)


@router.get("/")
async def front(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is not None:
        return RedirectResponse(home_of(session), status_code=303)
    return render(request, workbench, "signed_out.html", lang, next=request.query_params.get("next", "/inbox"))


@router.get("/inbox")
async def inbox(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return _to_sign_in(request)
    try:
        rows = _rows(workbench, await workbench.apis.inbox(session.access_token))
    except ServiceUnavailableError as error:
        return _unavailable(request, workbench, lang, session, error)
    poll_ms = int(workbench.settings.workbench.inbox_poll_seconds * 1000)
    return render(request, workbench, "inbox.html", lang, session=session, rows=rows, poll_ms=poll_ms)


@router.get("/inbox/rows")
async def inbox_rows(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    """The inbox's rows alone, for the page to ask again every second (the same answer as the page's)."""
    if session is None:
        return Response("signed out", status_code=401, media_type="text/plain")
    try:
        rows = _rows(workbench, await workbench.apis.inbox(session.access_token))
    except ServiceUnavailableError as error:
        log.warning("the inbox's rows could not be read: %s", error)
        return Response("unavailable", status_code=503, media_type="text/plain")
    return render(request, workbench, "inbox_rows.html", lang, session=session, rows=rows)


@router.get("/referrals/{referral_id}")
async def referral_page(
    referral_id: UUID, request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    if session is None:
        return _to_sign_in(request)
    done = request.query_params.get("done")
    return await _referral(request, workbench, lang, session, referral_id, done=done if done in text.DONE else None)


async def _referral(
    request: Request,
    workbench: Workbench,
    lang: str,
    session: Session,
    referral_id: UUID,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    try:
        referral = await workbench.apis.referral(session.access_token, referral_id)
        # Each reading is a disclosure on record (intake publishes it, allowed or denied).
        disclosure = (
            await workbench.apis.consultation(session.access_token, referral.consultation_id) if referral else None
        )
    except ServiceUnavailableError as error:
        return _unavailable(request, workbench, lang, session, error)
    if referral is None:
        return render(request, workbench, "error.html", lang, status=404, session=session, message=text.REFUSED[404])
    now = datetime.now(UTC)
    mine = referral.to_agency == session.agency_id
    return render(
        request,
        workbench,
        "referral.html",
        lang,
        status=status,
        session=session,
        referral=referral,
        left=time_left(
            urgent=referral.urgency == "urgent", respond_by=referral.respond_by, overdue_at=referral.overdue_at, now=now
        ),
        disclosure=disclosure,
        answers=ANSWERS.get(referral.state, ()) if mine else (),
        reasons=text.decline_reasons(lang),
        outcomes=[(code, text.pick(pair, lang)) for code, pair in text.OUTCOMES.items()],
        **context,
    )


@router.post("/referrals/{referral_id}/{action}")
async def answer(
    referral_id: UUID, action: str, request: Request, *, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    form = await form_of(request, workbench, session)
    assert session is not None  # form_of refuses a post without a session
    if action not in ("accept", "decline", "start", "complete"):
        return render(request, workbench, "error.html", lang, status=404, session=session, message=text.REFUSED[404])
    body, problems = _body(action, form)
    if problems:
        return await _referral(request, workbench, lang, session, referral_id, status=422, problems=problems, form=form)
    try:
        result = await workbench.apis.act(session.access_token, referral_id, action, body)
    except ServiceUnavailableError as error:
        return _unavailable(request, workbench, lang, session, error)
    if result.done:
        return RedirectResponse(f"/referrals/{referral_id}?done={action}", status_code=303)
    refusal = text.REFUSED.get(result.status, text.REFUSED[409])
    return await _referral(request, workbench, lang, session, referral_id, status=result.status, refusal=refusal)


def _body(action: str, form: dict[str, str]) -> tuple[dict[str, str] | None, list[str]]:
    """The API body of an answer, or the form's problems (keys of text.FORM_PROBLEMS)."""
    if action == "decline":
        reason, note = form.get("reason", ""), form.get("note", "").strip()
        problems = [
            name
            for name, bad in (("reason", reason not in set(DeclineReason)), ("note", len(note) > NOTE_LIMIT))
            if bad
        ]
        return {"reason": reason, "note": note}, problems
    if action == "complete":
        outcome = form.get("outcome", "")
        return {"outcome": outcome}, [] if outcome in text.OUTCOMES else ["outcome"]
    return None, []
