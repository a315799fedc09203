"""The cases (ケース): my agency's cases, and each case with its referrals, its outreach and its history as far as my
agency is involved in it.

The list is referral's (`GET /v1/cases`: the cases the agency took in, was referred, leads or meets on); a case
is referral's referrals of it and audit's history of it (`GET /v1/cases/{id}/history`), both asked with the
staff member's token, so each service applies need to know itself. A case either refuses is shown as one that
does not exist.
"""

from __future__ import annotations

from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import Response

from services.workbench.apis import ServiceUnavailableError
from services.workbench.pages import history_of
from services.workbench.web import Language, SignedIn, WorkbenchState, not_found, render, to_sign_in, unavailable

router = APIRouter(include_in_schema=False)


@router.get("/cases")
async def cases(request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn) -> Response:
    if session is None:
        return to_sign_in(request)
    try:
        found = await workbench.apis.cases(session.access_token)
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error)
    return render(request, workbench, "cases.html", lang, session=session, cases=found)


@router.get("/cases/{case_id}")
async def case(
    case_id: UUID, request: Request, workbench: WorkbenchState, lang: Language, session: SignedIn
) -> Response:
    if session is None:
        return to_sign_in(request)
    try:
        referrals = await workbench.apis.referrals_of_case(session.access_token, case_id)
        outreach = await workbench.apis.outreach_of_case(session.access_token, case_id) if referrals is not None else []
    except ServiceUnavailableError as error:
        return unavailable(request, workbench, lang, session, error)
    if referrals is None:
        return not_found(request, workbench, lang, session)
    history = await history_of(workbench.apis, session.access_token, case_id, lang)
    return render(
        request,
        workbench,
        "case.html",
        lang,
        session=session,
        case_id=case_id,
        referrals=referrals,
        outreach=outreach or [],
        history=history,
    )
