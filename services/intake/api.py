"""intake's HTTP API for agency systems."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response
from fastapi.responses import JSONResponse

from backbone.http import problem
from backbone.service import Runtime
from services.intake.consultations import IdempotencyConflictError, receive
from services.intake.submission import ConsultationAccepted, ConsultationSubmission

router = APIRouter(prefix="/v1", tags=["consultations"])

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="Send the same key when retrying; the first answer is returned and nothing is published twice",
    ),
]


@router.post(
    "/consultations",
    status_code=201,
    response_model=ConsultationAccepted,
    summary="Submit a consultation (相談受付)",
    responses={
        200: {"description": "A retry: the earlier submission's answer"},
        409: {"description": "The Idempotency-Key was used for a different submission"},
        422: {"description": "Invalid submission (RFC 9457 problem JSON); nothing stored"},
    },
)
async def submit_consultation(
    submission: ConsultationSubmission,
    runtime: Runtime,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ConsultationAccepted | JSONResponse:
    try:
        async with runtime.pool.acquire() as conn:
            accepted = await receive(conn, runtime.outbox, submission, idempotency_key=idempotency_key)
    except IdempotencyConflictError:
        return problem(
            409,
            "Idempotency-Key reused",
            "This key was used for a different submission; use a new key for a new consultation.",
        )
    if accepted.replayed:
        response.status_code = 200
    return accepted
