"""The notifications page (通知): the notifications addressed to the staff member's agency, and acknowledging
them as the staff member (確認しました), so that the acknowledgement names who read it.

notify decides what is listed (its own agency's only) and what may be acknowledged (any other id: 404, as for
none at all). The e-mail's own link keeps working beside this page for whoever is not signed in: notify's
confirmation page, which acknowledges only when its button is pressed (POST).
"""

from __future__ import annotations

import logging
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from services.workbench import text
from services.workbench.agency_apis import AgencyApis
from services.workbench.apis import ServiceUnavailableError
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

log = logging.getLogger(__name__)
router = APIRouter(prefix="/notifications", include_in_schema=False)

SHOWN = ("open", "acknowledged")  # the two lists: waiting to be acknowledged, and acknowledged


def agency_apis(workbench: Workbench) -> AgencyApis:
    return AgencyApis(workbench.settings.workbench, workbench.apis.http)


@router.get("")
async def notifications(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    shown = request.query_params.get("show")
    done = request.query_params.get("done") == "acknowledged"
    return await _page(request, workbench, lang, session, shown=shown if shown in SHOWN else "open", done=done)


async def _page(
    request: Request,
    workbench: Workbench,
    lang: str,
    session: Session,
    *,
    shown: str,
    done: bool = False,
    status: int = 200,
) -> Response:
    try:
        listed = await agency_apis(workbench).notifications(session.access_token, state=shown)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error, message=text.AGENCY_PAGES["unavailable"])
    return render(
        request,
        workbench,
        "notifications.html",
        lang,
        status=status,
        session=session,
        notifications=listed,
        shown=shown,
        views=SHOWN,
        done=done,
        said=lambda kind, code: text.pick(text.AGENCY_PAGES.get(f"{kind}:{code}", (code, code)), lang),
    )


@router.post("/{notification_id}/acknowledge")
async def acknowledge(
    notification_id: UUID, request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    form = await form_of(request, workbench, session)
    assert session is not None  # form_of refuses a post without a session
    try:
        answer = await agency_apis(workbench).acknowledge(session.access_token, notification_id)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error, message=text.AGENCY_PAGES["unavailable"])
    show = form.get("show") if form.get("show") in SHOWN else "open"
    if answer.done:
        return RedirectResponse(f"/notifications?done=acknowledged&show={show}", status_code=303)
    # Another agency's notification and one that does not exist get the same page.
    refused = text.AGENCY_PAGES["not_yours"] if answer.status in (403, 404) else None
    message = refused or text.REFUSED.get(answer.status, text.AGENCY_PAGES["unavailable"])
    return render(request, workbench, "error.html", lang, status=answer.status, session=session, message=message)
