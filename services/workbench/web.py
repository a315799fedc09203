"""The workbench's request machinery: who is signed in, which language, how pages are rendered, and the
checks every form post passes (same origin, the session's CSRF token)."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, quote, urlencode

from fastapi import Depends, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from jinja2 import Environment, FileSystemLoader, select_autoescape

from backbone.calendar import TOKYO
from backbone.directory import Directory
from services.workbench import text
from services.workbench.apis import StaffApis
from services.workbench.oidc import Provider, SignInError
from services.workbench.sessions import Session, Sessions
from services.workbench.settings import WorkbenchSettings

log = logging.getLogger(__name__)

SESSION_COOKIE = "wb_session"
BROWSER_COOKIE = "wb_sign_in"
LANG_COOKIE = "wb_lang"
REFRESH_AHEAD_SECONDS = 30.0
MAX_FORM_BYTES = 8 * 1024

# Pages show referrals and persons: nothing from elsewhere runs on them, nothing frames them, nothing caches them.
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "frame-ancestors 'none'; form-action 'self' {provider}; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


@dataclass
class Workbench:
    """What the routes share, opened by the app's lifespan."""

    settings: WorkbenchSettings
    sessions: Sessions
    provider: Provider
    apis: StaffApis
    directory: Directory
    pages: Environment

    def agency_name(self, agency_id: str | None) -> str:
        entry = self.directory.agency(agency_id) if agency_id else None
        return entry.name if entry else (agency_id or "")


def page_environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _workbench(request: Request) -> Workbench:
    workbench: Workbench = request.app.state.workbench
    return workbench


WorkbenchState = Annotated[Workbench, Depends(_workbench)]


def language(request: Request) -> str:
    """`?lang=` if given (kept in a cookie by the response), else the cookie, else Japanese."""
    asked = request.query_params.get("lang") or request.cookies.get(LANG_COOKIE)
    return asked if asked in text.LANGUAGES else "ja"


Language = Annotated[str, Depends(language)]


async def _signed_in(request: Request, workbench: WorkbenchState) -> Session | None:
    """The session of the cookie, its access token refreshed when it is about to expire; None if there is none
    (never signed in, signed out, expired, or the provider ended it)."""
    session_id = request.cookies.get(SESSION_COOKIE)
    session = await workbench.sessions.find(session_id) if session_id else None
    if session is not None and not may_open(session, request.url.path):
        raise NotYours(session)
    if session is None or not session.access_expires_within(REFRESH_AHEAD_SECONDS):
        return session
    if session.refresh_token is None:
        await workbench.sessions.close(session.session_hash)
        return None
    try:
        tokens = await workbench.provider.refresh(session.refresh_token)
    except SignInError as error:
        log.info("a session ended: its refresh was refused (%s)", error)
        await workbench.sessions.close(session.session_hash)
        return None
    return await workbench.sessions.renew(session, tokens)


SignedIn = Annotated[Session | None, Depends(_signed_in)]

AUDITORS_PAGES = "/audit"


def home_of(session: Session) -> str:
    """Where a signed-in person starts: the auditors' search for an auditor, the inbox for an agency's staff."""
    return AUDITORS_PAGES if session.auditor else "/inbox"


def may_open(session: Session, path: str) -> bool:
    """An auditor opens the auditors' pages only, and an agency's staff every page but those (as the services
    decide: the auditor role is never an agency's). The front page and signing in and out are everyone's."""
    if path == "/" or path.startswith("/auth/"):
        return True
    return (path == AUDITORS_PAGES or path.startswith(AUDITORS_PAGES + "/")) == session.auditor


class NotYours(HTTPException):
    """A signed-in person asked for a page that is not for their role; the page says which are."""

    def __init__(self, session: Session) -> None:
        super().__init__(403, "Refused: the page is not for this role.")
        self.session = session
        self.said = text.AUDITORS_ONLY_STAFF if session.auditor else text.AUDITORS_ONLY


def render(
    request: Request,
    workbench: Workbench,
    template: str,
    lang: str,
    *,
    status: int = 200,
    session: Session | None = None,
    **context: Any,
) -> HTMLResponse:
    page = workbench.pages.get_template(template)

    def t(key: str) -> str:
        return text.pick(text.LABELS[key], lang)

    other_lang = "ja" if lang == "en" else "en"
    # The language link reloads this page; after a form post, whose address is no page, the inbox.
    path = request.url.path if request.method == "GET" else "/inbox"
    body = page.render(
        t=t,
        lang=lang,
        other_lang=other_lang,
        language_link=language_link(request, path, other_lang, refused=status >= 400),
        session=session,
        home=home_of(session) if session else "/",
        agency_name=workbench.agency_name,
        pick=lambda pair: text.pick(pair, lang),
        text=text,
        path=path,
        when=lambda moment: moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M"),
        **context,
    )
    response = HTMLResponse(body, status_code=status)
    secure(response, workbench)
    if request.query_params.get("lang") in text.LANGUAGES:
        set_cookie(response, workbench, LANG_COOKIE, lang, max_age=365 * 24 * 3600)
    return response


def language_link(request: Request, path: str, other_lang: str, *, refused: bool = False) -> str:
    """This page in the other language: its GET query kept (a search stays a search), `lang` replaced.

    A refusal keeps none: it repeats nothing of what was asked (an id of a case that is not the reader's). Nor do
    sign-in's addresses: the provider's code and state are for one use, and a link must not carry them on.
    """
    kept = (
        [(name, value) for name, value in request.query_params.multi_items() if name != "lang"]
        if request.method == "GET" and path == request.url.path and not refused and not path.startswith("/auth/")
        else []
    )
    return f"{path}?{urlencode([*kept, ('lang', other_lang)])}"


def to_sign_in(request: Request) -> Response:
    """A page asked for without a session: to the front page, which signs in and comes back here."""
    return RedirectResponse(f"/?next={quote(request.url.path)}", status_code=303)


def unavailable(
    request: Request,
    workbench: Workbench,
    lang: str,
    session: Session,
    error: Exception,
    *,
    message: tuple[str, str] = text.UNAVAILABLE,
) -> Response:
    """A service the page needs did not answer: say which (`message`), and to try again in a moment."""
    log.warning("a service the workbench calls failed: %s", error)
    return render(request, workbench, "error.html", lang, status=503, session=session, message=message)


def not_found(request: Request, workbench: Workbench, lang: str, session: Session | None) -> Response:
    """Nothing here for this staff member: the same page whether it does not exist or is another's (need to know)."""
    return render(request, workbench, "error.html", lang, status=404, session=session, message=text.REFUSED[404])


def secure(response: Response, workbench: Workbench) -> Response:
    issuer = workbench.settings.identity.issuer
    provider_origin = "/".join(issuer.split("/", 3)[:3])
    for name, value in SECURITY_HEADERS.items():
        response.headers[name] = value.replace("{provider}", provider_origin)
    return response


def set_cookie(
    response: Response, workbench: Workbench, name: str, value: str, *, max_age: int, path: str = "/"
) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path=path,
        httponly=True,
        samesite="lax",
        secure=workbench.settings.workbench.secure_cookies,
    )


def refuse_other_sites(request: Request, workbench: Workbench) -> None:
    """A post must come from the workbench's own pages: an Origin of another site, or a browser that says the
    request is cross-site (Sec-Fetch-Site), is refused before anything else is looked at."""
    origin = request.headers.get("origin")
    if origin is not None and origin != workbench.settings.workbench.origin:
        raise HTTPException(403, "Refused: the form was posted from another site.")
    if request.headers.get("sec-fetch-site") in ("cross-site", "same-site"):
        raise HTTPException(403, "Refused: the form was posted from another site.")


async def form_of(
    request: Request, workbench: Workbench, session: Session | None, *, limit: int = MAX_FORM_BYTES
) -> dict[str, str]:
    """The posted form, once the post passed the origin check and carried the session's CSRF token. `limit` is
    the body's size in bytes (a form with free text, such as the つなぐシート's summary, allows more)."""
    refuse_other_sites(request, workbench)
    if session is None:
        raise HTTPException(401, "Not signed in (or the session ended): sign in again.")
    body = await request.body()
    if len(body) > limit:
        raise HTTPException(413, "The form is too large.")
    form = parse_form(body)
    if not hmac.compare_digest(form.get("csrf", ""), session.csrf_token):
        raise HTTPException(403, "Refused: the form lacks this session's CSRF token. Reload the page and try again.")
    return form


def parse_form(body: bytes) -> dict[str, str]:
    """An application/x-www-form-urlencoded body, first value of each name."""
    return {name: values[0] for name, values in parse_qs(body.decode("utf-8", "replace")).items()}
