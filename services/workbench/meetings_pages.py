"""The meetings pages (会議): my agency's meetings, one meeting with its invitation (.ics), and the coordinators'
forms to fix its time, record that it was held and confirm its support plan."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from backbone.calendar import TOKYO
from backbone.directory import AgencyEntry
from schemas.events import MeetingPurpose
from services.workbench import meeting_forms, text
from services.workbench.apis import ServiceUnavailableError
from services.workbench.meeting_apis import MeetingApis
from services.workbench.meeting_forms import ACTIONS, RESPONSIBILITIES
from services.workbench.sessions import Session
from services.workbench.web import Language, SignedIn, Workbench, WorkbenchState, form_of, render, secure, to_sign_in

log = logging.getLogger(__name__)
router = APIRouter(include_in_schema=False)

REVIEW_AFTER = timedelta(days=90)  # a support plan's usual review, offered as the default


def _apis(workbench: Workbench) -> MeetingApis:
    return MeetingApis(workbench.settings.workbench.meetings_url, workbench.apis.http)


def _said(request: Request, workbench: Workbench, lang: str, session: Session, *, status: int, key: str) -> Response:
    if status == 503:
        log.warning("meetings did not answer the workbench")
    message = text.MEETINGS[key]
    return render(request, workbench, "error.html", lang, status=status, session=session, message=message)


@router.get("/meetings")
async def agenda(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    try:
        meetings = await _apis(workbench).agenda(session.access_token)
    except ServiceUnavailableError:
        return _said(request, workbench, lang, session, status=503, key="unavailable")
    return render(request, workbench, "meetings.html", lang, session=session, meetings=meetings, m=_words(lang))


@router.get("/meetings/{meeting_id}")
async def meeting_page(
    meeting_id: UUID, request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    if session is None:
        return to_sign_in(request)
    done = request.query_params.get("done")
    return await _meeting(request, workbench, lang, session, meeting_id, done=done if done in ACTIONS else None)


@router.get("/meetings/{meeting_id}/invitation.ics")
async def invitation(
    meeting_id: UUID, request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    """The invitation as meetings makes it (RFC 5545), downloaded: a read, nothing changes."""
    if session is None:
        return to_sign_in(request)
    try:
        calendar = await _apis(workbench).invitation(session.access_token, meeting_id)
    except ServiceUnavailableError:
        return _said(request, workbench, lang, session, status=503, key="unavailable")
    if calendar is None:
        return _said(request, workbench, lang, session, status=404, key="refused.404")
    disposition = f'attachment; filename="meeting-{meeting_id}.ics"'
    response = Response(calendar, media_type="text/calendar; charset=utf-8")
    response.headers["Content-Disposition"] = disposition
    return secure(response, workbench)


@router.post("/meetings/{meeting_id}/{action}")
async def act(
    meeting_id: UUID, action: str, request: Request, *, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    form = await form_of(request, workbench, session, limit=meeting_forms.GOALS_MAX * meeting_forms.GOAL_LIMIT * 12)
    assert session is not None  # form_of refuses a post without a session
    apis = _apis(workbench)
    try:
        meeting = await apis.meeting(session.access_token, meeting_id) if action in ACTIONS else None
        if meeting is None:
            return _said(request, workbench, lang, session, status=404, key="refused.404")
        now = datetime.now(UTC)
        if action == "schedule":
            body, problems = meeting_forms.schedule_body(form)
        elif action == "held":
            body, problems = meeting_forms.held_body(form, now)
        else:
            places = frozenset(place.id for place in _places(workbench))
            body, problems = meeting_forms.plan_body(form, meeting, now.astimezone(TOKYO).date(), places)
        if problems:
            context = {"problems": problems, "form": form, "posted": action}
            return await _meeting(request, workbench, lang, session, meeting_id, status=422, **context)
        result = await apis.act(session.access_token, meeting_id, action, body)
        if result.done:
            return RedirectResponse(f"/meetings/{meeting_id}?done={action}", status_code=303)
        refusal = meeting_forms.refusal_of(result.status, result.detail)
        context = {"refusal": refusal, "form": form, "posted": action}
        return await _meeting(request, workbench, lang, session, meeting_id, status=result.status, **context)
    except ServiceUnavailableError:
        return _said(request, workbench, lang, session, status=503, key="unavailable")


async def _meeting(
    request: Request,
    workbench: Workbench,
    lang: str,
    session: Session,
    meeting_id: UUID,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    try:
        meeting = await _apis(workbench).meeting(session.access_token, meeting_id)
    except ServiceUnavailableError:
        return _said(request, workbench, lang, session, status=503, key="unavailable")
    if meeting is None:
        return _said(request, workbench, lang, session, status=404, key="refused.404")
    entry = workbench.directory.agency(session.agency_id) if session.agency_id else None
    actions = meeting_forms.actions_for(
        meeting,
        agency_id=session.agency_id,
        roles=session.roles,
        coordinator_agency=bool(entry and entry.coordinator),
    )
    today = datetime.now(UTC).astimezone(TOKYO).date()
    return render(
        request,
        workbench,
        "meeting.html",
        lang,
        status=status,
        session=session,
        meeting=meeting,
        actions=actions,
        m=_words(lang),
        local=lambda moment, shape: moment.astimezone(TOKYO).strftime(shape),
        responsibilities=RESPONSIBILITIES,
        places=_places(workbench) if meeting.purpose == MeetingPurpose.PARTICIPATION_PLAN else [],
        domains=list(text.DOMAINS),
        review_default=str(today + REVIEW_AFTER),
        **context,
    )


def _places(workbench: Workbench) -> list[AgencyEntry]:
    """The 参加支援 resources a 参加支援 plan may connect a person to (the directory's community places)."""
    return workbench.directory.places()


def _words(lang: str) -> Any:
    """`m(key)`: a meetings page's words in the reader's language (keys of text.MEETINGS)."""
    return lambda key: text.pick(text.MEETINGS[key], lang)
