"""The outcome of a submission sent on the ingress topic, read back by the agency that signed it.

Nothing is stored for this: an accepted record is the consultation it created (found by its idempotency
key, `kafka:<ce_id>`), a refused one its row in rejected_submissions, each written in the transaction
that accepted or refused it, and read here through the store (services/intake/store.py).
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from backbone.callers import CallingAgency
from backbone.outcomes import Refused, not_received
from backbone.service import Runtime
from services.intake.auth import IntakeContext
from services.intake.ingress import ingress_idempotency_key
from services.intake.store import PostgresStore

router = APIRouter(prefix="/v1")


class SubmissionAccepted(BaseModel):
    """The submission became a consultation (and a ConsultationReceived event)."""

    outcome: Literal["accepted"] = "accepted"
    submission_id: str = Field(description="The `ce_id` of the ingress record")
    case_id: UUID
    consultation_id: UUID
    person_id: UUID
    event_id: UUID = Field(description="The id of the ConsultationReceived event")
    accepted_at: datetime


class SubmissionRefused(Refused):
    submission_id: str = Field(description="The `ce_id` of the ingress record")


SubmissionOutcome = Annotated[SubmissionAccepted | SubmissionRefused, Field(discriminator="outcome")]


@router.get(
    "/submissions/{submission_id}",
    response_model=SubmissionOutcome,
    tags=["consultations"],
    summary="The outcome of a submission your agency sent on intake.submissions.v1, by its ce_id",
    responses={404: {"description": "Not received (yet), or not your agency's: the same answer"}},
)
async def submission_outcome(
    submission_id: Annotated[str, Path(min_length=1, max_length=200)],
    agency: CallingAgency,
    intake: IntakeContext,
    runtime: Runtime,
) -> SubmissionAccepted | SubmissionRefused | JSONResponse:
    async with runtime.pool.acquire() as conn:
        outcome = await outcome_of(intake.on(conn), agency=agency.id, submission_id=submission_id)
    return outcome or not_received("submission")


async def outcome_of(
    store: PostgresStore, *, agency: str, submission_id: str
) -> SubmissionAccepted | SubmissionRefused | None:
    # Accepted first: a later record that reused the ce_id for something else was refused, but the ce_id
    # still names the consultation its first record created.
    accepted = await store.consultation_by_key(agency, ingress_idempotency_key(submission_id))
    if accepted is not None:
        return SubmissionAccepted(submission_id=submission_id, **asdict(accepted))
    refused = await store.rejected_submission(agency, submission_id)
    return None if refused is None else SubmissionRefused(submission_id=submission_id, **refused)
