"""The outcome of an action sent on referral.responses.v1, read back by the agency that signed it.

The ingress handler records each outcome (store.py) in the transaction that applied or refused the action: an
applied one in applied_actions, a refused one in rejected_actions (with the reasons of its
ReferralActionRejected). A retried record (the same `ce_id` from the same agency) gets the first outcome.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.callers import CallingAgency
from backbone.db import Connection
from backbone.outcomes import Refused, not_received, refusal
from backbone.service import Runtime
from services.referral import reading
from services.referral.lifecycle import Action

router = APIRouter(prefix="/v1")


class ActionApplied(BaseModel):
    """The action was applied to the referral (a repeat of one already applied changes nothing)."""

    outcome: Literal["applied"] = "applied"
    action_id: str = Field(description="The `ce_id` of the ingress record")
    referral_id: UUID
    action: Action
    applied_at: datetime


class ActionRefused(Refused):
    action_id: str = Field(description="The `ce_id` of the ingress record")


ActionOutcome = Annotated[ActionApplied | ActionRefused, Field(discriminator="outcome")]


@router.get(
    "/actions/{action_id}",
    response_model=ActionOutcome,
    tags=["referrals"],
    summary="The outcome of an action your agency sent on referral.responses.v1, by its ce_id",
    responses={404: {"description": "Not received (yet), or not your agency's: the same answer"}},
)
async def action_outcome(
    action_id: Annotated[str, Path(min_length=1, max_length=200)], agency: CallingAgency, runtime: Runtime
) -> ActionApplied | ActionRefused | JSONResponse:
    async with runtime.pool.acquire() as conn:
        outcome = await outcome_of(conn, agency=agency.id, action_id=action_id)
    return outcome or not_received("action")


async def outcome_of(conn: Connection, *, agency: str, action_id: str) -> ActionApplied | ActionRefused | None:
    applied = await reading.applied_action(conn, agency, action_id)
    if applied is not None:
        return ActionApplied(action_id=action_id, **dict(applied))
    refused = await refusal(conn, reading.REFUSED_ACTION, agency=agency, record_id=action_id)
    return None if refused is None else ActionRefused(action_id=action_id, **refused)
