"""The outreach pages (アウトリーチ): one engagement with its contact attempts, and the forms its workers use to
record an attempt, the contact, the consent and the ending.

CSW teams and 社協 have no system of their own: this is where their outreach is recorded. referral decides who
may read an engagement (the agencies involved in its case) and who may record on it (its holder, its partner, or
a coordinator agency: services/referral/outreach.py); the page shows the forms to those and lets referral have
the last word. A note beside an attempt or an ending is the worker's own words: kept by referral, shown to the
agencies of the case, never published.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from schemas.events import OutreachEnding, OutreachMethod, OutreachResult
from services.workbench import text
from services.workbench.apis import Engagement, ServiceUnavailableError
from services.workbench.pages import NOTE_LIMIT
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

router = APIRouter(include_in_schema=False)

STEP_NAMES = ("attempts", "contact", "consent", "end")
STEPS: dict[str, tuple[str, ...]] = {
    "attempting": ("attempts", "contact", "end"),
    "in-contact": ("attempts", "consent", "end"),
    "consented": ("attempts", "end"),
}
"""What may be recorded in each state (referral's lifecycle, services/referral/outreach.py, has the last word)."""


def outreach_body(step: str, form: dict[str, str]) -> tuple[dict[str, str] | None, list[str]]:
    """referral's body for a step, and the form's problems (keys `problem.<field>` of text.OUTREACH)."""
    note = form.get("note", "").strip()
    if step == "attempts":
        body = {"method": form.get("method", ""), "result": form.get("result", ""), "note": note}
        bad = {
            "method": body["method"] not in set(OutreachMethod),
            "result": body["result"] not in set(OutreachResult),
            "note": len(note) > NOTE_LIMIT,
        }
        return body, [name for name, wrong in bad.items() if wrong]
    if step == "end":
        body = {"ending": form.get("ending", ""), "note": note}
        bad = {"ending": body["ending"] not in set(OutreachEnding), "note": len(note) > NOTE_LIMIT}
        return body, [name for name, wrong in bad.items() if wrong]
    return None, []


def steps_for(engagement: Engagement, agency_id: str | None, *, coordinator_agency: bool) -> tuple[str, ...]:
    """The forms this staff member's agency may use now: its workers', in the engagement's state."""
    works_it = agency_id in (engagement.holder, engagement.partner) or coordinator_agency
    return STEPS.get(engagement.state, ()) if works_it and agency_id else ()


@router.get("/outreach/{outreach_id}")
async def outreach_page(
    outreach_id: UUID, request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    if session is None:
        return to_sign_in(request)
    done = request.query_params.get("done")
    return await _page(request, workbench, lang, session, outreach_id, done=done if done in STEP_NAMES else None)


@router.post("/outreach/{outreach_id}/{step}")
async def record(
    outreach_id: UUID, step: str, request: Request, *, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    form = await form_of(request, workbench, session)
    assert session is not None  # form_of refuses a post without a session
    if step not in STEP_NAMES:
        return not_found(request, workbench, lang, session)
    body, problems = outreach_body(step, form)
    if problems:
        context = {"problems": problems, "form": form, "posted": step}
        return await _page(request, workbench, lang, session, outreach_id, status=422, **context)
    try:
        result = await workbench.apis.record_outreach(session.access_token, outreach_id, step, body)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error)
    if result.done:
        return RedirectResponse(f"/outreach/{outreach_id}?done={step}", status_code=303)
    if result.status == 404:
        return not_found(request, workbench, lang, session)
    refusal = f"refused.{result.status}" if f"refused.{result.status}" in text.OUTREACH else "refused.409"
    context = {"refusal": refusal, "form": form, "posted": step}
    return await _page(request, workbench, lang, session, outreach_id, status=result.status, **context)


async def _page(
    request: Request,
    workbench: Workbench,
    lang: str,
    session: Session,
    outreach_id: UUID,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    try:
        engagement = await workbench.apis.outreach(session.access_token, outreach_id)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error)
    if engagement is None:
        return not_found(request, workbench, lang, session)
    entry = workbench.directory.agency(session.agency_id) if session.agency_id else None
    return render(
        request,
        workbench,
        "outreach.html",
        lang,
        status=status,
        session=session,
        engagement=engagement,
        steps=steps_for(engagement, session.agency_id, coordinator_agency=bool(entry and entry.coordinator)),
        o=lambda key: text.pick(text.OUTREACH[key], lang),
        methods=list(OutreachMethod),
        results=list(OutreachResult),
        endings=list(OutreachEnding),
        **context,
    )
