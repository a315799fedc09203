"""referral's HTTP API: what has been proposed for a case."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from backbone.service import Runtime

router = APIRouter(prefix="/v1", tags=["referrals"])


class ReferralView(BaseModel):
    referral_id: UUID
    case_id: UUID
    consultation_id: UUID
    from_agency: str
    to_agency: str
    routing_rule: str
    state: str
    urgency: str
    respond_by: datetime
    event_id: UUID
    trace_id: str | None


@router.get("/referrals", response_model=list[ReferralView], summary="Referrals of a case, oldest first")
async def referrals_of_case(case_id: UUID, runtime: Runtime) -> list[ReferralView]:
    rows = await runtime.pool.fetch(
        "SELECT referral_id, case_id, consultation_id, from_agency, to_agency, routing_rule, state, urgency,"
        " respond_by, event_id, trace_id FROM referrals WHERE case_id = $1 ORDER BY created_at",
        case_id,
    )
    return [ReferralView.model_validate(dict(row)) for row in rows]
