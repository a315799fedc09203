"""Receiving a consultation, however it arrived: one transaction writes the person, the case, the
consultation, any consent, and the ConsultationReceived event, or nothing at all."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import BaseModel, Field

from backbone.agencies import Agency
from backbone.db import Connection
from backbone.involvement import Involvement
from backbone.telemetry import current_trace_id
from schemas.events import ConsultationReceived
from schemas.submission import ConsultationFacts, PersonalPart
from services.intake import consents, households, persons
from services.intake.context import Intake
from services.intake.crypto import keyed_hash


class ConsultationAccepted(BaseModel):
    consultation_id: UUID
    case_id: UUID
    person_id: UUID
    new_case: bool = Field(
        description="False when the consultation joined an open case: the person's, or their household's"
    )
    household_id: UUID | None = Field(
        default=None, description="世帯: the household it named or started; name it in the next member's consultation"
    )
    event_id: UUID
    trace_id: str | None
    replayed: bool = Field(description="True when this answers a retry of an earlier submission")


class ForeignSubmissionError(Exception):
    """An agency submitted in another agency's name."""


class IdempotencyConflictError(Exception):
    """The idempotency key was used before for a different submission."""


async def receive(
    conn: Connection,
    intake: Intake,
    facts: ConsultationFacts,
    personal: PersonalPart,
    *,
    agency: Agency,
    involvement: Involvement,
    idempotency_key: str | None,
) -> ConsultationAccepted:
    if facts.receiving_agency != agency.id:
        raise ForeignSubmissionError
    # Keyed, because the submission holds personal data and a plain hash of it could be guessed.
    fingerprint = keyed_hash(intake.subject_key, facts.model_dump_json() + personal.model_dump_json())
    async with conn.transaction():
        if idempotency_key is not None:
            earlier = await _earlier(conn, agency.id, idempotency_key)
            if earlier is not None:
                return _replay(earlier, fingerprint)
            # Serialise retries of one key, so that exactly one of them writes.
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{agency.id}\n{idempotency_key}")
            earlier = await _earlier(conn, agency.id, idempotency_key)
            if earlier is not None:
                return _replay(earlier, fingerprint)
        household = await households.named(conn, facts.household, agency_id=agency.id, involvement=involvement)
        person = await persons.resolve(
            conn,
            intake.vault,
            intake.subject_key,
            personal.person,
            household_case=household.open_case if household else None,
        )
        if household is not None:
            await households.join(conn, household, person.case_id, person.person_id)
        household_id = household.household_id if household else None
        consultation_id, event_id = uuid4(), uuid4()
        received_at = facts.received_at or datetime.now(UTC)
        await conn.execute(
            "INSERT INTO consultations (consultation_id, case_id, person_id, receiving_agency, staff_id, channel,"
            " district, domains, urgency, received_at, summary_ct, event_id, trace_id, idempotency_key, request_hash,"
            " consulted_by, household_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            consultation_id,
            person.case_id,
            person.person_id,
            agency.id,
            facts.staff_id,
            facts.channel,
            facts.district,
            list(facts.domains),
            facts.urgency,
            received_at,
            persons.encrypt_summary(person.data_key, consultation_id, personal.summary) if personal.summary else None,
            event_id,
            current_trace_id(),
            idempotency_key,
            fingerprint,
            facts.consulted_by,
            household_id,
        )
        if facts.consent is not None:
            await consents.record(
                conn,
                intake.outbox,
                person_id=person.person_id,
                case_id=person.case_id,
                given=facts.consent,
                agency=agency,
            )
        event = ConsultationReceived(
            case_id=person.case_id,
            consultation_id=consultation_id,
            person_id=person.person_id,
            receiving_agency=agency.id,
            channel=facts.channel,
            district=facts.district,
            domains=facts.domains,
            urgency=facts.urgency,
            subject_ref=person.subject_ref,
            consent=await consents.scope_in_force(conn, person.person_id),
            new_case=person.new_case,
            consulted_by=facts.consulted_by,
            household_id=household_id,
            received_at=received_at,
            by_staff=agency.by_staff,
        )
        await intake.outbox.add(conn, event, event_id=event_id)
    return ConsultationAccepted(
        consultation_id=consultation_id,
        case_id=person.case_id,
        person_id=person.person_id,
        new_case=person.new_case,
        household_id=household_id,
        event_id=event_id,
        trace_id=current_trace_id(),
        replayed=False,
    )


async def _earlier(conn: Connection, agency: str, key: str) -> dict[str, object] | None:
    row = await conn.fetchrow(
        "SELECT c.consultation_id, c.case_id, c.person_id, c.household_id, c.event_id, c.trace_id, c.request_hash,"
        " NOT EXISTS (SELECT 1 FROM consultations o WHERE o.case_id = c.case_id AND o.received_at < c.received_at)"
        " AS new_case FROM consultations c WHERE c.receiving_agency = $1 AND c.idempotency_key = $2",
        agency,
        key,
    )
    return dict(row) if row else None


def _replay(earlier: dict[str, object], fingerprint: str) -> ConsultationAccepted:
    if earlier.pop("request_hash") != fingerprint:
        raise IdempotencyConflictError
    return ConsultationAccepted.model_validate({**earlier, "replayed": True})
