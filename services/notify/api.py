"""notify's HTTP API: what was delivered for a case."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from fastapi import APIRouter
from pydantic import BaseModel

from backbone.service import Runtime

router = APIRouter(prefix="/v1", tags=["notifications"])


class DeliveryView(BaseModel):
    notification_id: UUID
    case_id: UUID
    cause_event_id: UUID
    category: str
    recipient_agency: str
    recipient_role: str
    channel: str
    urgency: str
    delivered_at: datetime
    event_id: UUID
    trace_id: str | None


@router.get("/notifications", response_model=list[DeliveryView], summary="Notifications delivered for a case")
async def notifications_of_case(case_id: UUID, runtime: Runtime) -> list[DeliveryView]:
    rows = await runtime.pool.fetch(
        "SELECT notification_id, case_id, cause_event_id, category, recipient_agency, recipient_role, channel,"
        " urgency, delivered_at, event_id, trace_id FROM deliveries WHERE case_id = $1 ORDER BY delivered_at",
        case_id,
    )
    return [DeliveryView.model_validate(dict(row)) for row in rows]
