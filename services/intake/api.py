"""intake's HTTP API for agency systems. Every call is made as one agency, by its bearer token.

Each route binds the store (services/intake/store.py) to its connection, `intake.on(conn)`, and hands it to
the module that decides; no SQL here."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Header, Query, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backbone.agencies import Agency
from backbone.callers import CallingAgency
from backbone.http import problem
from backbone.service import Runtime, ServiceRuntime
from schemas.changelog import version_of
from schemas.events import ConsentPurpose, ConsentRecorded, ConsentWithdrawn
from schemas.submission import ConsentGiven, ConsultationSubmission, PersonIdentity
from services.intake import consents, disclosure
from services.intake.auth import IntakeContext
from services.intake.consultations import (
    ConsultationAccepted,
    ForeignSubmissionError,
    IdempotencyConflictError,
    receive,
)
from services.intake.context import Intake
from services.intake.contract import SUBMISSION_CONTRACT, announcements
from services.intake.households import UNKNOWN_HOUSEHOLD, UnknownHouseholdError

router = APIRouter(prefix="/v1")

Purpose = Annotated[ConsentPurpose, Query(description="Why your agency needs the data")]

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=8,
        max_length=128,
        description="Send the same key when retrying: the first answer comes back and nothing is published twice",
    ),
]

NOT_DISCLOSED = (
    "Nothing can be shown: either no consent in force covers your agency for this purpose, or your agency is "
    "not involved in the person's case, or there is no such person. Ask the person for consent (or the agency "
    "holding the case to record it); if a referral to your agency was just proposed, try again in a few seconds."
)


def _not_disclosed() -> JSONResponse:
    return problem(403, "Not disclosed", NOT_DISCLOSED, type_="urn:jp:fujisawa:welfare:problem:not-disclosed")


@router.post(
    "/consultations",
    status_code=201,
    response_model=ConsultationAccepted,
    tags=["consultations"],
    summary="Submit a consultation (相談受付)",
    description=f"The body is the contract `{SUBMISSION_CONTRACT}`, version {version_of(SUBMISSION_CONTRACT)} "
    "(its JSON Schema and changelog: schemas/jsonschema/ and schemas/changelog.toml). Every accepted submission's "
    "answer names the contract and version in `Backbone-Contract`. A field announced for removal that the "
    "submission used is named in `Backbone-Deprecated-Fields`, with `Deprecation` (RFC 9745) and `Sunset` "
    "(RFC 8594): change your system before the sunset.",
    responses={
        200: {"description": "A retry: the earlier submission's answer"},
        403: {"description": "Submitted in another agency's name"},
        409: {"description": "The Idempotency-Key was used for a different submission"},
        413: {"description": "The body is larger than 64 KiB"},
        422: {
            "description": "Invalid submission, or a household your agency is not involved in (RFC 9457 problem"
            " JSON); nothing stored"
        },
    },
)
async def submit_consultation(
    submission: ConsultationSubmission,
    *,
    agency: CallingAgency,
    intake: IntakeContext,
    runtime: Runtime,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> ConsultationAccepted | JSONResponse:
    try:
        async with runtime.pool.acquire() as conn:
            accepted = await receive(
                intake.on(conn),
                intake,
                submission,
                submission.personal,
                agency=agency,
                involvement=runtime.involvement,
                idempotency_key=idempotency_key,
            )
    except ForeignSubmissionError:
        return problem(
            403,
            "Not your agency",
            f"You are authenticated as {agency.id}; set receiving_agency to "
            f"{agency.id!r}. An agency submits only in its own name.",
        )
    except UnknownHouseholdError:
        return problem(422, "Unknown household", UNKNOWN_HOUSEHOLD)
    except IdempotencyConflictError:
        return problem(
            409,
            "Idempotency-Key reused",
            "This key was used for a different submission; use a new key for a new consultation.",
        )
    if accepted.replayed:
        response.status_code = 200
    response.headers.update(announcements(submission))
    return accepted


class SubmissionKey(BaseModel):
    algorithm: str = "libsodium sealed box (X25519, XSalsa20-Poly1305)"
    public_key: str


@router.get(
    "/keys/submission",
    response_model=SubmissionKey,
    tags=["consultations"],
    summary="intake's public key, for sealing the personal part of ingress-topic submissions",
)
async def submission_key(intake: IntakeContext) -> SubmissionKey:
    return SubmissionKey(public_key=intake.opener.public_key_base64)


@router.post(
    "/persons/{person_id}/consents",
    status_code=201,
    response_model=ConsentRecorded,
    tags=["consent"],
    summary="Record a consent the person gave (本人同意)",
    responses={403: {"description": "Not disclosed"}},
)
async def record_consent(
    person_id: UUID, given: ConsentGiven, agency: CallingAgency, intake: IntakeContext, runtime: Runtime
) -> ConsentRecorded | JSONResponse:
    async with runtime.pool.acquire() as conn, conn.transaction():
        store = intake.on(conn)
        # Only an agency that took in a consultation from the person may record their consent.
        case_id = await store.latest_case_received_by(person_id, agency.id)
        if case_id is None:
            return _not_disclosed()
        return await consents.record(store, person_id=person_id, case_id=case_id, given=given, agency=agency)


@router.post(
    "/consents/{consent_id}/withdrawal",
    response_model=ConsentWithdrawn,
    tags=["consent"],
    summary="Withdraw a consent (同意の撤回): nothing more is disclosed on its strength",
    responses={404: {"description": "No consent in force with this id"}},
)
async def withdraw_consent(
    consent_id: UUID, agency: CallingAgency, intake: IntakeContext, runtime: Runtime
) -> ConsentWithdrawn | JSONResponse:
    async with runtime.pool.acquire() as conn, conn.transaction():
        withdrawn = await consents.withdraw(intake.on(conn), runtime.involvement, consent_id=consent_id, agency=agency)
    if withdrawn is None:
        return problem(
            404,
            "No such consent in force",
            "The consent does not exist, was withdrawn already, or concerns a case your agency is not involved in.",
        )
    return withdrawn


class ConsultationRecord(BaseModel):
    consultation_id: UUID
    case_id: UUID
    receiving_agency: str
    received_at: datetime
    summary: str


class PersonRecord(BaseModel):
    person_id: UUID
    identity: PersonIdentity | None
    consultations: list[ConsultationRecord]


@router.get(
    "/persons/{person_id}",
    response_model=PersonRecord,
    tags=["disclosure"],
    summary="Read a person's data (個人情報の開示), when consent covers your agency for the purpose",
    responses={403: {"description": "Not disclosed (the same answer whether or not the person exists)"}},
)
async def read_person(
    person_id: UUID,
    agency: CallingAgency,
    intake: IntakeContext,
    runtime: Runtime,
    purpose: Purpose,
) -> PersonRecord | JSONResponse:
    return await _disclosed(runtime, intake, agency, purpose, person_id)


@router.get(
    "/consultations/{consultation_id}",
    response_model=PersonRecord,
    tags=["disclosure"],
    summary="Read a referred consultation: the person and its summary (個人情報の開示), under consent",
    description=(
        "The `consultation_id` of a referral (its `ReferralProposed`, your inbox) is enough: the answer is the "
        "person and that consultation's summary, when consent covers your agency for the purpose and your "
        "agency is involved in the case (it was referred, leads it, or meets on it). Recorded as "
        "`PersonalDataDisclosed`, allowed or denied."
    ),
    responses={403: {"description": "Not disclosed (the same answer whether or not the consultation exists)"}},
)
async def read_consultation(
    consultation_id: UUID,
    agency: CallingAgency,
    intake: IntakeContext,
    runtime: Runtime,
    purpose: Purpose,
) -> PersonRecord | JSONResponse:
    async with runtime.pool.acquire() as conn:
        person_id = await intake.on(conn).person_of_consultation(consultation_id)
    if person_id is None:  # nobody's data was asked for: nothing to record
        return _not_disclosed()
    return await _disclosed(runtime, intake, agency, purpose, person_id, consultation_id=consultation_id)


async def _disclosed(
    runtime: ServiceRuntime,
    intake: Intake,
    agency: Agency,
    purpose: ConsentPurpose,
    person_id: UUID,
    *,
    consultation_id: UUID | None = None,
) -> PersonRecord | JSONResponse:
    async with runtime.pool.acquire() as conn:
        data = await disclosure.disclose(
            intake.on(conn),
            intake.vault,
            runtime.involvement,
            person_id=person_id,
            agency=agency,
            purpose=purpose,
            consultation_id=consultation_id,
        )
    return _not_disclosed() if data is None else PersonRecord.model_validate(data)
