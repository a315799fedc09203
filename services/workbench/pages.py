"""The pages: the front page (sign in), the inbox (受付箱) with its live rows, and a referral with its answers."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.events import DeclineReason
from services.workbench import text
from services.workbench.apis import HistoryEntry, Referral, ServiceUnavailableError, StaffApis
from services.workbench.deadlines import TimeLeft, time_left
from services.workbench.sessions import Session
from services.workbench.web import (
    Language,
    SignedIn,
    Workbench,
    WorkbenchState,
    form_of,
    home_of,
    not_found,
    render,
    to_sign_in,
    unavailable,
)

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
    for_place: str = ""  # the community place the agency answers for, when the referral is addressed to one


def _rows(workbench: Workbench, referrals: list[Referral], agency_id: str | None) -> list[InboxRow]:
    """The rows in the order a person works them: urgent first, then by deadline (referral chose the page's
    referrals in this order; the rows of a page keep it)."""
    now = datetime.now(UTC)
    ordered = sorted(referrals, key=lambda r: (r.urgency != "urgent", r.respond_by))
    return [
        InboxRow(
            r,
            time_left(urgent=r.urgency == "urgent", respond_by=r.respond_by, overdue_at=r.overdue_at, now=now),
            workbench.agency_name(r.from_agency),
            workbench.agency_name(r.to_agency) if r.to_agency != agency_id else "",
        )
        for r in ordered
    ]


@router.get("/")
async def front(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is not None:
        return RedirectResponse(home_of(session), status_code=303)
    return render(request, workbench, "signed_out.html", lang, next=request.query_params.get("next", "/inbox"))


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox: its rows, the referrals that arrived since the page was opened and are not among
    them (shown on top, so a new referral is seen however many wait), and where the page is in the whole."""

    rows: list[InboxRow]
    arrivals: list[InboxRow]
    number: int
    total: int
    since: datetime
    moved_up: int = 0
    """Arrivals that belong on this page: shown on top, marked new, instead of in their place among the rows."""

    @property
    def listed(self) -> list[tuple[InboxRow, bool]]:
        """The rows as the page lists them, each with whether it arrived since the page was opened (those first)."""
        return [(row, True) for row in self.arrivals] + [(row, False) for row in self.rows]

    @property
    def first(self) -> int:
        return (self.number - 1) * INBOX_PAGE + 1 if self.rows or self.moved_up else 0

    @property
    def last(self) -> int:
        return (self.number - 1) * INBOX_PAGE + len(self.rows) + self.moved_up

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // INBOX_PAGE))


INBOX_PAGE = 100
"""Referrals per page of the inbox: a day's work for a centre, and a page a phone renders at once."""
ARRIVALS_SHOWN = 20


async def _inbox_page(workbench: Workbench, session: Session, request: Request) -> InboxPage:
    number = _whole_number(request.query_params.get("page"), default=1)
    since = _moment(request.query_params.get("since")) or datetime.now(UTC)
    token = session.access_token
    referrals, total = await workbench.apis.inbox(token, limit=INBOX_PAGE, offset=(number - 1) * INBOX_PAGE)
    arrived: list[Referral] = []
    moved_up = 0
    if "since" in request.query_params:  # the live rows of an open page: what came in since it was opened
        # On top and marked new, wherever its deadline would place it: on this page or another.
        arrived = (await workbench.apis.inbox(token, limit=ARRIVALS_SHOWN, since=since))[0]
        new = {r.referral_id for r in arrived}
        moved_up = sum(r.referral_id in new for r in referrals)
        referrals = [r for r in referrals if r.referral_id not in new]
    mine = session.agency_id
    rows, arrivals = _rows(workbench, referrals, mine), _rows(workbench, arrived, mine)
    return InboxPage(rows, arrivals, number, total, since, moved_up)


def _whole_number(given: str | None, *, default: int) -> int:
    return int(given) if given and given.isdigit() and 0 < int(given) < 100_000 else default


def _moment(given: str | None) -> datetime | None:
    """An aware time as the page wrote it into its fragment's address; anything else is no time."""
    try:
        moment = datetime.fromisoformat(given) if given else None
    except ValueError:
        return None
    return moment if moment is not None and moment.tzinfo is not None else None


@router.get("/inbox")
async def inbox(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    try:
        page = await _inbox_page(workbench, session, request)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error)
    poll_ms = int(workbench.settings.workbench.inbox_poll_seconds * 1000)
    return render(request, workbench, "inbox.html", lang, session=session, page=page, poll_ms=poll_ms)


@router.get("/inbox/rows")
async def inbox_rows(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    """The rows of an inbox page alone, for the open page to ask again every second: the page's rows, and above
    them the referrals that arrived since the page was opened (`since`)."""
    if session is None:
        return Response("signed out", status_code=401, media_type="text/plain")
    try:
        page = await _inbox_page(workbench, session, request)
    except ServiceUnavailableError as error:
        log.warning("the inbox's rows could not be read: %s", error)
        return Response("unavailable", status_code=503, media_type="text/plain")
    return render(request, workbench, "inbox_rows.html", lang, session=session, page=page)


@router.get("/referrals/{referral_id}")
async def referral_page(
    referral_id: UUID, request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    if session is None:
        return to_sign_in(request)
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
        return unavailable(request, workbench, lang, session, error)
    if referral is None:
        return not_found(request, workbench, lang, session)
    history = await history_of(workbench.apis, session.access_token, referral.case_id, lang)
    now = datetime.now(UTC)
    # The referred agency answers; so does the coordinator agency that answers for a place (directory answered_by).
    mine = referral.to_agency == session.agency_id or workbench.directory.answers_for(
        session.agency_id or "", referral.to_agency
    )
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
        history=None if history is None else [e for e in history if e.referral_id == referral.referral_id],
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
        return not_found(request, workbench, lang, session)
    body, problems = _body(action, form)
    if problems:
        return await _referral(request, workbench, lang, session, referral_id, status=422, problems=problems, form=form)
    try:
        result = await workbench.apis.act(session.access_token, referral_id, action, body)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error)
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


async def history_of(apis: StaffApis, token: str, case_id: UUID, lang: str) -> list[HistoryEntry] | None:
    """The case's history for the page; None when audit does not answer (the page says so and shows the rest:
    a case's referrals stay workable while the ledger's reader is down). Audit refusing a case referral shows
    means its ledger has not caught up with the case yet: nothing recorded, so far."""
    try:
        return await apis.case_history(token, case_id, lang) or []
    except ServiceUnavailableError:
        return None
