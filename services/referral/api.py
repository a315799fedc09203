"""referral's HTTP API: an agency's inbox of referrals, its answers, its capacity, and the cases at risk."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from backbone.callers import MANAGING_REFUSED, CallingAgency, ManagingAgency, involved, not_involved
from backbone.directory import Capacity
from backbone.http import problem
from backbone.service import Runtime
from schemas.events import DeclineReason, ReferralCancelReason, ReferralOutcome
from schemas.submission import AgencyNote
from services.referral import decisions, reading
from services.referral.casework import Casework
from services.referral.decisions import Actor
from services.referral.lifecycle import InvalidTransitionError, NotYourReferralError, State

router = APIRouter(prefix="/v1")


class ReferralView(BaseModel):
    referral_id: UUID
    case_id: UUID
    consultation_id: UUID
    from_agency: str
    to_agency: str
    routing_rule: str
    reason: str
    attempt: int
    state: State
    waitlisted: bool
    urgency: str
    respond_by: datetime
    overdue_at: datetime | None
    escalation_level: int
    decline_reason: str | None
    decline_note: str | None = Field(default=None, description="The declining agency's words (never published)")
    cancel_reason: str | None = None
    cancel_note: str | None = Field(default=None, description="The cancelling agency's words (never published)")
    outcome: str | None
    event_id: UUID
    trace_id: str | None
    person_id: UUID | None = Field(
        default=None,
        description="Whom the referral is about (intake's opaque id; a household's case concerns several persons,"
        " each with their own consent): read the person with intake's "
        "GET /v1/persons/{person_id} or the consultation with GET /v1/consultations/{consultation_id}, under "
        "consent. Null for a case opened before it was kept.",
    )


class Decline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: DeclineReason = Field(description="Required: no-capacity, outside-area, not-eligible or other")
    note: AgencyNote = ""


class Complete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: ReferralOutcome = Field(description="How support ended")


class Cancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: ReferralCancelReason = Field(
        description="Required: no-longer-needed, person-declined, duplicate, sent-in-error or other"
    )
    note: AgencyNote = ""


class CapacityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: Capacity


def _casework(request: Request) -> Casework:
    casework: Casework = request.app.state.casework
    return casework


def _views(rows: list[Any]) -> list[ReferralView]:
    return [ReferralView.model_validate(dict(row)) for row in rows]


@router.get(
    "/referrals",
    response_model=list[ReferralView],
    tags=["referrals"],
    summary="The referrals of a case (to the agencies involved in it)",
    responses={404: {"description": "Not found for your agency (the same answer whether or not the case exists)"}},
)
async def referrals_of_case(
    case_id: UUID, runtime: Runtime, agency: CallingAgency
) -> list[ReferralView] | JSONResponse:
    if not await involved(runtime, case_id, agency):
        return not_involved()
    async with runtime.pool.acquire() as conn:
        return _views(await reading.of_case(conn, case_id))


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralView,
    tags=["referrals"],
    summary="One referral, with whose case it is (to the agencies involved in its case)",
    responses={404: {"description": "Not found for your agency (the same answer whether or not it exists)"}},
)
async def referral(referral_id: UUID, runtime: Runtime, agency: CallingAgency) -> ReferralView | JSONResponse:
    async with runtime.pool.acquire() as conn:
        row = await reading.one(conn, referral_id)
        if row is None or not await runtime.involvement.is_involved(conn, row["case_id"], agency.id):
            return not_involved()
    return ReferralView.model_validate(dict(row))


@router.get(
    "/inbox",
    response_model=list[ReferralView],
    tags=["referrals"],
    summary="Referrals addressed to your agency, and to the community places it answers for (by default those still "
    "waiting for an answer), urgent first, then by deadline",
)
async def inbox(
    request: Request,
    response: Response,
    runtime: Runtime,
    agency: CallingAgency,
    *,
    state: Annotated[list[State] | None, Query()] = None,
    limit: Annotated[
        int | None,
        Query(ge=1, le=1000, description="At most this many (all if not given); X-Total-Count says how many"),
    ] = None,
    offset: Annotated[int, Query(ge=0, le=10_000_000, description="Skip this many first (with limit, for pages)")] = 0,
    since: Annotated[datetime | None, Query(description="Only those proposed after this time (new arrivals)")] = None,
) -> list[ReferralView]:
    states = [str(s) for s in (state or [State.PROPOSED])]
    agencies = [agency.id, *sorted(_casework(request).directory.answered_for(agency.id))]
    async with runtime.pool.acquire() as conn:
        rows, total = await reading.inbox(conn, agencies, states, limit=limit, offset=offset, since=since)
    response.headers["X-Total-Count"] = str(total)
    return _views(rows)


async def _act(
    request: Request,
    runtime: Runtime,
    agency: CallingAgency,
    referral_id: UUID,
    command: Callable[[Actor], decisions.Command],
) -> ReferralView | JSONResponse:
    casework = _casework(request)
    order = command(casework.actor(agency))
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            # An agency with no part in the case learns nothing, not even that the referral exists.
            case_id = await reading.case_of(conn, referral_id)
            if case_id is None or not await runtime.involvement.is_involved(conn, case_id, agency.id):
                return not_involved()
            await casework.act(casework.on(conn), referral_id, order, now=datetime.now(UTC))
            row = await reading.one(conn, referral_id)
    except NotYourReferralError:
        return problem(
            403,
            "Not your referral",
            f"{agency.id} may not {decisions.ACTIONS[type(order)]} this referral: it is addressed to "
            "another agency. Check your inbox (GET /v1/inbox).",
        )
    except InvalidTransitionError as error:
        return problem(
            409,
            "Not possible in this state",
            f"{error}. See the referral's state with GET /v1/referrals/{referral_id}.",
        )
    if row is None:
        return not_involved()
    return ReferralView.model_validate(dict(row))


@router.post(
    "/referrals/{referral_id}/accept",
    response_model=ReferralView,
    tags=["referrals"],
    summary="Accept: your agency takes the case (accepting twice is harmless)",
)
async def accept(referral_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, decisions.Accept)


@router.post(
    "/referrals/{referral_id}/decline",
    response_model=ReferralView,
    tags=["referrals"],
    summary="Decline with a reason: the next agency is proposed at once",
)
async def decline(referral_id: UUID, body: Decline, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, lambda by: decisions.Decline(by, body.reason, body.note))


@router.post(
    "/referrals/{referral_id}/start", response_model=ReferralView, tags=["referrals"], summary="Support has begun"
)
async def start(referral_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, decisions.Start)


@router.post(
    "/referrals/{referral_id}/complete",
    response_model=ReferralView,
    tags=["referrals"],
    summary="Support ended, with its outcome",
)
async def complete(referral_id: UUID, body: Complete, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, lambda by: decisions.Complete(by, body.outcome))


@router.post(
    "/referrals/{referral_id}/cancel",
    response_model=ReferralView,
    tags=["referrals"],
    summary="Cancel (the referring agency or a coordinator), with a reason",
)
async def cancel(referral_id: UUID, body: Cancel, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, lambda by: decisions.Cancel(by, body.reason, body.note))


@router.put(
    "/agencies/me/capacity",
    tags=["directory"],
    summary="Report your agency's capacity; staff need the supervisor or coordinator role",
    responses=MANAGING_REFUSED,
)
async def report_capacity(
    body: CapacityUpdate, request: Request, runtime: Runtime, agency: ManagingAgency
) -> dict[str, str]:
    async with runtime.pool.acquire() as conn:
        await _casework(request).on(conn).report_capacity(agency.id, body.capacity)
    return {"agency": agency.id, "capacity": body.capacity}


@router.delete(
    "/agencies/me/capacity",
    tags=["directory"],
    summary="Withdraw your reported capacity; the directory's own applies again. Staff need the supervisor or "
    "coordinator role",
    responses=MANAGING_REFUSED,
)
async def withdraw_capacity(request: Request, runtime: Runtime, agency: ManagingAgency) -> dict[str, str]:
    casework = _casework(request)
    async with runtime.pool.acquire() as conn:
        store = casework.on(conn)
        await store.withdraw_capacity(agency.id)
        entry = (await casework.current_directory(store)).agency(agency.id)
    return {"agency": agency.id, "capacity": entry.capacity if entry else Capacity.AVAILABLE}


class DirectoryEntry(BaseModel):
    """An agency as routing sees it, without its on-call address (staff contact details stay with notify)."""

    id: str
    name: str
    type: str
    districts: tuple[str, ...]
    domains: tuple[str, ...]
    capacity: Capacity
    support_meeting_member: bool
    coordinator: bool
    place: str | None = Field(default=None, description="A community place's kind: engawa-core, engawa-basic, …")
    answered_by: str | None = Field(default=None, description="The agency that answers this place's referrals")


@router.get(
    "/directory",
    response_model=list[DirectoryEntry],
    tags=["directory"],
    summary="Every agency, as routing sees it (to agencies of the programme; no on-call addresses)",
)
async def directory(request: Request, runtime: Runtime, _: CallingAgency) -> list[DirectoryEntry]:
    casework = _casework(request)
    async with runtime.pool.acquire() as conn:
        current = await casework.current_directory(casework.on(conn))
    return [DirectoryEntry.model_validate(entry.model_dump(exclude={"on_call"})) for entry in current.agencies.values()]


class CaseAtRisk(BaseModel):
    case_id: UUID
    reason: str
    since: datetime


class CaseOfAgency(BaseModel):
    """A case the calling agency is involved in, as referral sees it."""

    case_id: UUID
    roles: list[str] = Field(description="Why your agency is involved: received, referred, lead, meeting")
    involved_since: datetime
    opened_at: datetime | None = Field(description="When the case was opened (null if referral never saw it open)")
    lead_agency: str | None = Field(description="The lead agency (主担当), once one accepted")
    in_coordination_queue: bool | None
    open_referrals: int = Field(description="Referrals proposed, accepted or in progress")
    waiting_for_you: int = Field(description="Referrals waiting for your agency's answer")
    urgent: bool
    last_activity: datetime


@router.get(
    "/cases",
    response_model=list[CaseOfAgency],
    tags=["cases"],
    summary="Your agency's cases: those it took in, was referred, leads or met on, the latest activity first",
)
async def cases_of_agency(
    runtime: Runtime, agency: CallingAgency, limit: Annotated[int, Query(ge=1, le=500)] = 100
) -> list[CaseOfAgency]:
    async with runtime.pool.acquire() as conn:
        rows = await reading.cases_of(conn, agency.id, limit)
    return [CaseOfAgency.model_validate(dict(row)) for row in rows]


@router.get(
    "/cases/at-risk",
    response_model=list[CaseAtRisk],
    tags=["cases"],
    summary="Open cases without a lead agency that need attention, with the reason: all of them to the "
    "coordinators, your agency's own cases to any other",
)
async def cases_at_risk(runtime: Runtime, agency: CallingAgency) -> list[CaseAtRisk]:
    async with runtime.pool.acquire() as conn:
        rows = await reading.at_risk(conn, runtime.involvement, agency.id)
    return [CaseAtRisk.model_validate(dict(row)) for row in rows]
