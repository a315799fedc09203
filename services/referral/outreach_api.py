"""referral's HTTP API for outreach (アウトリーチ等を通じた継続的支援): open an engagement, record its contact
attempts, the contact, the consent, and its end; read an engagement with its attempts.

Every operation is scoped to the agencies involved in the case (404 otherwise, as for a case that does not
exist); steps are for the engagement's holder, its partner and the coordinators (403 otherwise).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from backbone.agencies import Agency
from backbone.callers import CallingAgency, not_involved
from backbone.http import problem
from backbone.service import Runtime
from schemas.events import AgencyId, OutreachEnding, OutreachMethod, OutreachResult
from schemas.submission import AgencyNote
from services.referral import reading
from services.referral.engagements import Engagements, NotAWorkerError
from services.referral.outreach import OutreachRefusedError, Step, partner_of
from services.referral.routing import lead_coordinator

router = APIRouter(prefix="/v1", tags=["outreach"])


class OutreachOpened(BaseModel):
    model_config = ConfigDict(extra="forbid")

    case_id: UUID
    partner: AgencyId | None = Field(
        default=None, description="Who works it with you; absent: the district CSW (or, for a CSW, no one)"
    )


class Attempt(BaseModel):
    model_config = ConfigDict(extra="forbid")

    method: OutreachMethod
    result: OutreachResult
    note: AgencyNote = ""


class Ending(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ending: OutreachEnding = Field(
        description="handed-over (to a plan; needs the consent), no-longer-needed, moved-away or other"
    )
    note: AgencyNote = ""


class AttemptView(BaseModel):
    attempt: int
    at: AwareDatetime
    method: str
    result: str
    agency: str
    note: str | None


class OutreachView(BaseModel):
    outreach_id: UUID
    case_id: UUID
    holder: str
    partner: str | None
    plan_id: UUID | None
    state: str
    attempts: int
    started_at: AwareDatetime
    last_attempt_at: AwareDatetime | None
    quiet_until: AwareDatetime = Field(description="At risk from then on unless a further attempt is recorded")
    contact_at: AwareDatetime | None
    consent_at: AwareDatetime | None
    ended_at: AwareDatetime | None
    ending: str | None
    history: list[AttemptView] = Field(default_factory=list, description="The contact attempts, first first")


def _engagements(request: Request) -> Engagements:
    engagements: Engagements = request.app.state.engagements
    return engagements


@router.post("/outreach", status_code=201, response_model=OutreachView, summary="Open an outreach engagement")
async def open_outreach(body: OutreachOpened, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    engagements = _engagements(request)
    async with runtime.pool.acquire() as conn, conn.transaction():
        known = await reading.is_case(conn, body.case_id)
        if not known or not await runtime.involvement.is_involved(conn, body.case_id, agency.id):
            return not_involved()  # a coordinator is involved in every case, but not in one that does not exist
        district = await engagements.on(conn).first_district(body.case_id)
        partner = body.partner
        if partner is None and district is not None:
            # A CSW works beside 社協, the seed's pairing for ひきこもり (routing's lead coordinator).
            coordinator = lead_coordinator(engagements.directory)
            partner = partner_of(agency.id, district, engagements.directory, coordinator=coordinator)
        if partner is not None and engagements.directory.agency(partner) is None:
            return problem(422, "Unknown partner", f"{partner} is not in the directory; name a directory id.")
        try:
            row = await engagements.start(
                conn, case_id=body.case_id, holder=agency.id, partner=partner, now=datetime.now(UTC),
                by_staff=agency.by_staff,
            )  # fmt: skip
        except OutreachRefusedError as error:
            return problem(403, "Not an outreach holder", f"{error}.")
    assert row is not None  # a new engagement without a plan always inserts
    return OutreachView.model_validate(dict(row))


@router.get("/outreach", response_model=list[OutreachView], summary="A case's outreach engagements")
async def case_outreach(case_id: UUID, runtime: Runtime, agency: CallingAgency) -> Any:
    async with runtime.pool.acquire() as conn:
        if not await runtime.involvement.is_involved(conn, case_id, agency.id):
            return not_involved()
        rows = await reading.outreach_of_case(conn, case_id)
    return [OutreachView.model_validate(dict(row)) for row in rows]


@router.get("/outreach/{outreach_id}", response_model=OutreachView, summary="An engagement with its attempts")
async def one_outreach(outreach_id: UUID, runtime: Runtime, agency: CallingAgency) -> Any:
    async with runtime.pool.acquire() as conn:
        row = await reading.outreach(conn, outreach_id)
        if row is None or not await runtime.involvement.is_involved(conn, row["case_id"], agency.id):
            return not_involved()
        attempts = await reading.outreach_attempts(conn, outreach_id)
    return OutreachView.model_validate({**dict(row), "history": [dict(a) for a in attempts]})


@router.post("/outreach/{outreach_id}/attempts", response_model=OutreachView, summary="Record a contact attempt")
async def attempted(outreach_id: UUID, body: Attempt, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _step(
        request, runtime, agency, outreach_id, Step.ATTEMPT, method=body.method, result=body.result, note=body.note
    )


@router.post("/outreach/{outreach_id}/contact", response_model=OutreachView, summary="The person was reached")
async def contacted(outreach_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _step(request, runtime, agency, outreach_id, Step.CONTACT)


@router.post(
    "/outreach/{outreach_id}/consent",
    response_model=OutreachView,
    summary="The person consented (record the consent itself with intake, which says to whom)",
)
async def consented(outreach_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _step(request, runtime, agency, outreach_id, Step.CONSENT)


@router.post(
    "/outreach/{outreach_id}/end",
    response_model=OutreachView,
    summary="End it: handed over to a plan (after consent), or closed with a reason",
)
async def ended(outreach_id: UUID, body: Ending, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _step(request, runtime, agency, outreach_id, Step.END, ending=body.ending, note=body.note)


async def _step(
    request: Request, runtime: Runtime, agency: Agency, outreach_id: UUID, step: Step, **details: Any
) -> OutreachView | JSONResponse:
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            case_id = await reading.case_of_outreach(conn, outreach_id)
            if case_id is None or not await runtime.involvement.is_involved(conn, case_id, agency.id):
                return not_involved()
            row = await _engagements(request).record(conn, outreach_id, step, agency, now=datetime.now(UTC), **details)
    except NotAWorkerError:
        return problem(
            403,
            "Not your outreach",
            f"{agency.id} neither holds nor partners this engagement; its holder, partner or a coordinator records it.",
        )
    except OutreachRefusedError as error:
        return problem(409, "Not possible in this state", f"{error}. See it with GET /v1/outreach/{outreach_id}.")
    if row is None:
        return not_involved()
    return OutreachView.model_validate(dict(row))
