"""referral's HTTP API: an agency's inbox of referrals, its answers, its capacity, and the cases at risk."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from backbone.callers import CallingAgency
from backbone.directory import AgencyEntry, Capacity
from backbone.http import problem
from backbone.service import Runtime
from schemas.events import DeclineReason
from services.referral.casework import Casework
from services.referral.lifecycle import Action, InvalidTransitionError, NotYourReferralError, State

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
    outcome: str | None
    event_id: UUID
    trace_id: str | None


class Decline(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: DeclineReason = Field(description="Required: no-capacity, outside-area, not-eligible or other")
    note: str = Field(default="", max_length=200, description="A few words for the next agency; never personal data")


class Complete(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: str = Field(pattern="^(resolved|transferred|ongoing-elsewhere|ended-by-person|other)$")


class Cancel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=200)


class CapacityUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: Capacity


def _casework(request: Request) -> Casework:
    casework: Casework = request.app.state.casework
    return casework


def _views(rows: list[Any]) -> list[ReferralView]:
    return [ReferralView.model_validate(dict(row)) for row in rows]


@router.get("/referrals", response_model=list[ReferralView], tags=["referrals"], summary="The referrals of a case")
async def referrals_of_case(case_id: UUID, runtime: Runtime, _: CallingAgency) -> list[ReferralView]:
    return _views(await runtime.pool.fetch("SELECT * FROM referrals WHERE case_id = $1 ORDER BY created_at", case_id))


@router.get(
    "/inbox",
    response_model=list[ReferralView],
    tags=["referrals"],
    summary="Referrals addressed to your agency (by default those still waiting for your answer)",
)
async def inbox(
    runtime: Runtime, agency: CallingAgency, state: Annotated[list[State] | None, Query()] = None
) -> list[ReferralView]:
    states = [str(s) for s in (state or [State.PROPOSED])]
    rows = await runtime.pool.fetch(
        "SELECT * FROM referrals WHERE to_agency = $1 AND state = ANY($2::text[]) ORDER BY respond_by",
        agency.id,
        states,
    )
    return _views(rows)


async def _act(
    request: Request, runtime: Runtime, agency: CallingAgency, referral_id: UUID, action: Action, **details: Any
) -> ReferralView | JSONResponse:
    try:
        async with runtime.pool.acquire() as conn, conn.transaction():
            row = await _casework(request).act(conn, referral_id, action, agency, now=datetime.now(UTC), **details)
    except NotYourReferralError:
        return problem(
            403,
            "Not your referral",
            f"{agency.id} may not {action} this referral: it is addressed to "
            "another agency. Check your inbox (GET /v1/inbox).",
        )
    except InvalidTransitionError as error:
        return problem(409, "Not possible in this state", f"{error}. See the referral's state with GET /v1/referrals.")
    if row is None:
        return problem(404, "No such referral", f"There is no referral {referral_id}.")
    return ReferralView.model_validate(dict(row))


@router.post(
    "/referrals/{referral_id}/accept",
    response_model=ReferralView,
    tags=["referrals"],
    summary="Accept: your agency takes the case (accepting twice is harmless)",
)
async def accept(referral_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, Action.ACCEPT)


@router.post(
    "/referrals/{referral_id}/decline",
    response_model=ReferralView,
    tags=["referrals"],
    summary="Decline with a reason: the next agency is proposed at once",
)
async def decline(referral_id: UUID, body: Decline, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, Action.DECLINE, reason=body.reason, note=body.note)


@router.post(
    "/referrals/{referral_id}/start", response_model=ReferralView, tags=["referrals"], summary="Support has begun"
)
async def start(referral_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, Action.START)


@router.post(
    "/referrals/{referral_id}/complete",
    response_model=ReferralView,
    tags=["referrals"],
    summary="Support ended, with its outcome",
)
async def complete(referral_id: UUID, body: Complete, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, Action.COMPLETE, outcome=body.outcome)


@router.post(
    "/referrals/{referral_id}/cancel",
    response_model=ReferralView,
    tags=["referrals"],
    summary="Cancel (the referring agency or a coordinator), with a reason",
)
async def cancel(referral_id: UUID, body: Cancel, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    return await _act(request, runtime, agency, referral_id, Action.CANCEL, cancel_reason=body.reason)


@router.put("/agencies/me/capacity", tags=["directory"], summary="Report your agency's capacity")
async def report_capacity(body: CapacityUpdate, runtime: Runtime, agency: CallingAgency) -> dict[str, str]:
    await runtime.pool.execute(
        "INSERT INTO capacities (agency_id, capacity) VALUES ($1, $2)"
        " ON CONFLICT (agency_id) DO UPDATE SET capacity = EXCLUDED.capacity, updated_at = now()",
        agency.id,
        body.capacity,
    )
    return {"agency": agency.id, "capacity": body.capacity}


@router.delete(
    "/agencies/me/capacity",
    tags=["directory"],
    summary="Withdraw your reported capacity; the directory's own applies again",
)
async def withdraw_capacity(request: Request, runtime: Runtime, agency: CallingAgency) -> dict[str, str]:
    async with runtime.pool.acquire() as conn:
        await conn.execute("DELETE FROM capacities WHERE agency_id = $1", agency.id)
        entry = (await _casework(request).current_directory(conn)).agency(agency.id)
    return {"agency": agency.id, "capacity": entry.capacity if entry else Capacity.AVAILABLE}


@router.get(
    "/directory", response_model=list[AgencyEntry], tags=["directory"], summary="Every agency, as routing sees it"
)
async def directory(request: Request, runtime: Runtime) -> list[AgencyEntry]:
    async with runtime.pool.acquire() as conn:
        current = await _casework(request).current_directory(conn)
    return list(current.agencies.values())


class CaseAtRisk(BaseModel):
    case_id: UUID
    reason: str
    since: datetime


@router.get(
    "/cases/at-risk",
    response_model=list[CaseAtRisk],
    tags=["cases"],
    summary="Open cases without a lead agency that need someone's attention, with the reason",
)
async def cases_at_risk(runtime: Runtime, _: CallingAgency) -> list[CaseAtRisk]:
    rows = await runtime.pool.fetch(AT_RISK)
    return [CaseAtRisk.model_validate(dict(row)) for row in rows]


# No orphan case: every case without a lead either waits on a referral still inside its deadline, or
# shows here with why: in the coordination queue, an overdue referral, or nothing open at all.
AT_RISK = """
SELECT c.case_id,
       CASE WHEN c.queued_at IS NOT NULL THEN 'in the coordination queue: ' || c.queue_reason
            WHEN o.overdue_at IS NOT NULL THEN 'referral to ' || o.to_agency || ' overdue (escalation level '
                                                || o.escalation_level || ')'
            ELSE 'no open referral' END AS reason,
       coalesce(c.queued_at, o.overdue_at, c.opened_at) AS since
FROM cases c
LEFT JOIN LATERAL (SELECT to_agency, overdue_at, escalation_level FROM referrals r
                   WHERE r.case_id = c.case_id AND r.state = 'proposed' ORDER BY created_at DESC LIMIT 1) o ON true
WHERE c.lead_agency IS NULL AND (c.queued_at IS NOT NULL OR o.to_agency IS NULL OR o.overdue_at IS NOT NULL)
ORDER BY since
"""

# Overdue as the list above means it: still proposed, and its deadline timer has fired. Counted per
# referral, so this also counts a support plan's referral on a case that already has a lead; served by
# the partial index referrals_overdue.
OVERDUE_REFERRALS = "SELECT count(*) FROM referrals WHERE state = 'proposed' AND overdue_at IS NOT NULL"
