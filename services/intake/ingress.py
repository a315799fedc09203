"""The ingress topic: agency systems that speak Kafka submit consultations here.

The same rules as over HTTP. The record is signed by the agency (backbone.agencies.signature); the personal
part is sealed to intake's public key. A record whose sender cannot be verified goes to the dead-letter
topic (nobody trustworthy to answer); a verified agency's invalid submission is refused with a
SubmissionRejected event addressed to it, with the reasons. A retried record (same `ce_id` from the same
agency) gets the first outcome and publishes nothing new.

The agency cannot read the topics (the ACLs), so it reads each outcome with `GET /v1/submissions/{ce_id}`
(services.intake.outcomes): the consultation an accepted record created and the rejected_submissions row
of a refused one are written in the transaction that decided, and are that outcome; both through the store
(services/intake/store.py), on the connection of the record's delivery.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import TypeVar

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError

from backbone.agencies import Agency, Credentials
from backbone.db import Connection
from backbone.delivery import RecordHandler
from backbone.involvement import Involvement
from backbone.records import validation_problems
from schemas.events import SUBMISSION_TYPE, RejectionReason, SubmissionRejected
from schemas.submission import PersonalPart, SealedSubmission
from services.intake.consultations import ForeignSubmissionError, IdempotencyConflictError, receive
from services.intake.context import Intake
from services.intake.crypto import UndecryptableError
from services.intake.households import UNKNOWN_HOUSEHOLD, UnknownHouseholdError
from services.intake.store import PostgresStore

M = TypeVar("M", SealedSubmission, PersonalPart)


def ingress_idempotency_key(submission_id: str) -> str:
    """The consultation's idempotency key for an ingress record: its `ce_id`, apart from HTTP's keys."""
    return f"kafka:{submission_id}"


class RefusedError(Exception):
    def __init__(self, *reasons: RejectionReason) -> None:
        super().__init__(reasons)
        self.reasons = reasons


def on_submission(intake: Intake, credentials: Credentials, involvement: Involvement) -> RecordHandler:
    async def handle(conn: Connection, record: ConsumerRecord[bytes, bytes]) -> None:
        agency, submission_id = await credentials.signed_sender(conn, record)
        store = intake.on(conn)
        if dict(record.headers).get("ce_type") != SUBMISSION_TYPE.encode():
            reason = RejectionReason(field="ce_type", message=f"must be {SUBMISSION_TYPE}")
            await _refuse(store, agency, submission_id, (reason,))
            return
        if await store.rejected_submission(agency.id, submission_id) is not None:
            return  # refused before: the first outcome stands, and was published once
        try:
            facts, personal = _open(intake, record)
            await receive(
                store,
                intake,
                facts,
                personal,
                agency=agency,
                involvement=involvement,
                idempotency_key=ingress_idempotency_key(submission_id),
            )
        except RefusedError as refused:
            await _refuse(store, agency, submission_id, refused.reasons)
        except ForeignSubmissionError:
            reason = RejectionReason(field="body.receiving_agency", message=f"must be your own agency, {agency.id}")
            await _refuse(store, agency, submission_id, (reason,))
        except IdempotencyConflictError:
            reason = RejectionReason(field="ce_id", message="was used before for a different submission")
            await _refuse(store, agency, submission_id, (reason,))
        except UnknownHouseholdError:
            reason = RejectionReason(field="body.household.household_id", message=UNKNOWN_HOUSEHOLD)
            await _refuse(store, agency, submission_id, (reason,))

    return handle


def _open(intake: Intake, record: ConsumerRecord[bytes, bytes]) -> tuple[SealedSubmission, PersonalPart]:
    try:
        body = json.loads(record.value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RefusedError(RejectionReason(field="body", message=f"is not UTF-8 JSON: {error}")) from None
    facts = _validated(SealedSubmission, body, "body")
    if facts.sealed_personal is None:
        return facts, PersonalPart()
    try:
        opened = intake.opener.open(facts.sealed_personal)
    except UndecryptableError:
        reason = RejectionReason(
            field="body.sealed_personal",
            message="does not open with intake's key; seal the personal part to GET /v1/keys/submission",
        )
        raise RefusedError(reason) from None
    try:
        personal_body = json.loads(opened)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise RefusedError(RejectionReason(field="body.sealed_personal", message=f"is not JSON: {error}")) from None
    return facts, _validated(PersonalPart, personal_body, "body.sealed_personal")


def _validated(model: type[M], body: object, where: str) -> M:
    try:
        return model.model_validate(body)
    except ValidationError as error:
        problems = validation_problems(error)
        raise RefusedError(
            *(RejectionReason(field=f"{where}.{field}", message=text) for field, text in problems)
        ) from None


async def _refuse(
    store: PostgresStore, agency: Agency, submission_id: str, reasons: tuple[RejectionReason, ...]
) -> None:
    event = SubmissionRejected(
        submission_id=submission_id, agency=agency.id, reasons=reasons, rejected_at=datetime.now(UTC)
    )
    await store.keep_rejected_submission(agency.id, submission_id, reasons)
    await store.record(event)
