"""My agency (自機関): its on-call roster (当番表) as notify applies it, and its capacity (受入可否) as routing
sees it; a supervisor or coordinator changes them here.

Who may change them is the services' decision (notify and referral refuse other staff with 403); the forms
are only left out for those the services would refuse. A roster is written as JSON and validated by notify
(no gap in the primary's cover, no overlap within a role): its problems are shown beside the field, and
nothing is stored until it is valid.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from backbone.callers import MANAGING_ROLES
from backbone.directory import Capacity
from services.workbench import roster_words, text
from services.workbench.agency_apis import Change
from services.workbench.apis import ServiceUnavailableError
from services.workbench.notifications_pages import agency_apis
from services.workbench.sessions import Session
from services.workbench.web import (
    Language,
    SignedIn,
    Workbench,
    WorkbenchState,
    form_of,
    render,
    to_sign_in,
    unavailable,
)

router = APIRouter(prefix="/agency", include_in_schema=False)

DONE = ("capacity", "capacity_withdrawn", "roster", "roster_withdrawn")
MAX_ROSTER_BYTES = 64 * 1024  # a roster of a large agency, written out with its indentation


@router.get("")
async def my_agency(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    done = request.query_params.get("done")
    return await _page(request, workbench, lang, session, done=done if done in DONE else None)


async def _page(
    request: Request,
    workbench: Workbench,
    lang: str,
    session: Session,
    *,
    status: int = 200,
    written: str | None = None,
    **context: Any,
) -> Response:
    apis = agency_apis(workbench)
    try:
        roster = await apis.roster(session.access_token)
        capacity = await apis.capacity(session.access_token, session.agency_id or "")
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error, message=text.AGENCY_PAGES["unavailable"])
    return render(
        request,
        workbench,
        "agency.html",
        lang,
        status=status,
        session=session,
        manages=bool(session.roles & MANAGING_ROLES),
        capacity=capacity,
        capacities=[c.value for c in Capacity],
        roster=roster,
        week=roster_words.weekly(roster),
        words=roster_words,
        written=written if written is not None else json.dumps(roster, ensure_ascii=False, indent=2),
        **context,
    )


@router.post("/capacity")
async def change_capacity(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    form = await form_of(request, workbench, session)
    assert session is not None  # form_of refuses a post without a session
    apis = agency_apis(workbench)
    withdraw = form.get("action") == "withdraw"
    capacity = form.get("capacity", "")
    if not withdraw and capacity not in {c.value for c in Capacity}:
        return await _page(request, workbench, lang, session, status=422, capacity_problem=True)
    try:
        token = session.access_token
        change = await (apis.withdraw_capacity(token) if withdraw else apis.report_capacity(token, capacity))
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error, message=text.AGENCY_PAGES["unavailable"])
    return await _answer(
        request, workbench, lang, session, change, done="capacity_withdrawn" if withdraw else "capacity"
    )


@router.post("/roster")
async def change_roster(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    form = await form_of(request, workbench, session, limit=MAX_ROSTER_BYTES)
    assert session is not None  # form_of refuses a post without a session
    apis = agency_apis(workbench)
    withdraw = form.get("action") == "withdraw"
    written = form.get("roster", "")
    try:
        token = session.access_token
        change = await (apis.withdraw_roster(token) if withdraw else apis.register_roster(token, written))
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error, message=text.AGENCY_PAGES["unavailable"])
    if change.status == 422:
        problems = [roster_words.problem_words(field, message) for field, message in change.problems]
        return await _page(request, workbench, lang, session, status=422, written=written, roster_problems=problems)
    return await _answer(request, workbench, lang, session, change, done="roster_withdrawn" if withdraw else "roster")


async def _answer(
    request: Request, workbench: Workbench, lang: str, session: Session, change: Change, *, done: str
) -> Response:
    if change.done:
        return RedirectResponse(f"/agency?done={done}", status_code=303)
    refused = text.AGENCY_PAGES["needs_role"] if change.status == 403 else None
    refusal = refused or text.REFUSED.get(change.status, text.AGENCY_PAGES["not_changed"])
    return await _page(request, workbench, lang, session, status=change.status, refusal=refusal)
