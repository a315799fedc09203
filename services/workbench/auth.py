"""Sign-in, its callback, and sign-out (OpenID Connect; the flow itself is in oidc.py)."""

from __future__ import annotations

import logging
import secrets

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from backbone.callers import AUDITOR_ROLE, STAFF_ROLES
from backbone.staff import StaffMember
from services.workbench.oidc import SignInError, new_challenge
from services.workbench.web import (
    BROWSER_COOKIE,
    SESSION_COOKIE,
    Language,
    SignedIn,
    Workbench,
    WorkbenchState,
    form_of,
    home_of,
    may_open,
    parse_form,
    refuse_other_sites,
    render,
    secure,
    set_cookie,
)

log = logging.getLogger(__name__)
router = APIRouter(prefix="/auth", include_in_schema=False)


def local_path(candidate: str | None) -> str:
    """Where to go after signing in: a path of the workbench only, never another site (an open redirect)."""
    if candidate and candidate.startswith("/") and not candidate.startswith("//") and "\\" not in candidate:
        return candidate
    return "/inbox"


@router.post("/login")
async def login(request: Request, workbench: WorkbenchState, lang: Language) -> Response:
    """Begin a sign-in: to the provider's login form (a post, since it writes the sign-in's secrets)."""
    refuse_other_sites(request, workbench)
    next_path = local_path(parse_form(await request.body()).get("next"))
    challenge = new_challenge()
    browser = secrets.token_urlsafe(32)
    await workbench.sessions.begin_sign_in(challenge, browser=browser, return_to=next_path)
    response = RedirectResponse(await workbench.provider.authorization_url(challenge, locale=lang), status_code=303)
    set_cookie(response, workbench, BROWSER_COOKIE, browser, max_age=15 * 60, path="/auth")
    return secure(response, workbench)


@router.get("/callback")
async def callback(request: Request, workbench: WorkbenchState, lang: Language) -> Response:
    """The provider sends the browser back here with a code. This GET opens a session: the protocol's redirect
    is a GET, and only the browser that began the sign-in, with its state, can complete it."""
    state = request.query_params.get("state", "")
    code = request.query_params.get("code", "")
    browser = request.cookies.get(BROWSER_COOKIE, "")
    pending = await workbench.sessions.take_sign_in(state, browser=browser) if state and browser else None
    if pending is None or not code:
        log.info("a sign-in callback was refused: unknown, used or stale state, or another browser")
        return render(request, workbench, "signed_out.html", lang, status=400, problem="sign_in_failed")
    challenge, next_path = pending
    try:
        tokens = await workbench.provider.finish(code, challenge)
    except SignInError as error:
        log.info("a sign-in was refused: %s", error)
        return render(request, workbench, "signed_out.html", lang, status=403, problem="no_agency")
    if not _may_sign_in(workbench, tokens.member):
        log.info("a sign-in was refused: the account is neither an agency's staff nor an auditor")
        return render(request, workbench, "signed_out.html", lang, status=403, problem="no_agency")
    session_id = await workbench.sessions.open(tokens)
    session = await workbench.sessions.find(session_id)
    assert session is not None  # just opened
    # An auditor who followed a link to an agency's page (or the default, the inbox) starts at their own pages.
    response = RedirectResponse(next_path if may_open(session, next_path) else home_of(session), status_code=303)
    set_cookie(
        response, workbench, SESSION_COOKIE, session_id, max_age=int(workbench.sessions.lifetime.total_seconds())
    )
    response.delete_cookie(BROWSER_COOKIE, path="/auth")
    return secure(response, workbench)


def _may_sign_in(workbench: Workbench, member: StaffMember) -> bool:
    """An auditor (who belongs to no agency), or a staff member of an agency of the directory: the same
    accounts the services accept (backbone/callers.py)."""
    if AUDITOR_ROLE in member.roles:
        return True
    return bool(member.agency_id and workbench.directory.agency(member.agency_id) and member.roles & STAFF_ROLES)


@router.post("/logout")
async def logout(request: Request, workbench: WorkbenchState, session: SignedIn) -> Response:
    """End the session here, then at the provider (its end-session endpoint, with the ID token as hint)."""
    await form_of(request, workbench, session)
    assert session is not None  # form_of refuses a post without a session
    await workbench.sessions.close(session.session_hash)
    target = await workbench.provider.logout_url(session.id_token) or "/"
    response = RedirectResponse(target, status_code=303)
    response.delete_cookie(SESSION_COOKIE, path="/")
    return secure(response, workbench)
