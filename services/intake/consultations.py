"""Receiving a consultation, however it arrived: one transaction writes the person, the case, the
consultation, any consent, and the ConsultationReceived event, or nothing at all (through the store,
services/intake/store.py). A retry under the same idempotency key gets the first answer and writes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import BaseModel, Field

from backbone.agencies import Agency
from backbone.involvement import Involvement
from backbone.telemetry import current_trace_id
from schemas.events import ConsultationReceived
from schemas.submission import ConsultationFacts, PersonalPart
from services.intake import consents, households, persons
from services.intake.context import Intake
from services.intake.crypto import keyed_hash
from services.intake.store import EarlierSubmission, NewConsultation, PostgresStore


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
    store: PostgresStore,
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
    async with store.transaction():
        if idempotency_key is not None:
            # Serialise retries of one key, so that exactly one of them writes; then, in a statement of its own (a
            # snapshot taken after the lock), see whether one already did. A retry is rare: checking before the
            # lock as well would cost every first submission a round trip to save a retry an uncontended lock.
            await store.hold_idempotency_key(agency.id, idempotency_key)
            earlier = await store.earlier_submission(agency.id, idempotency_key)
            if earlier is not None:
                return _replay(earlier, fingerprint)
        household = await households.named(store, facts.household, agency_id=agency.id, involvement=involvement)
        person = await persons.resolve(
            store,
            intake.vault,
            intake.subject_key,
            personal.person,
            household_case=household.open_case if household else None,
        )
        if household is not None:
            await households.join(store, household, person.case_id, person.person_id)
        household_id = household.household_id if household else None
        consultation_id, event_id = uuid4(), uuid4()
        received_at = facts.received_at or datetime.now(UTC)
        await store.keep_consultation(
            NewConsultation(
                consultation_id=consultation_id,
                case_id=person.case_id,
                person_id=person.person_id,
                receiving_agency=agency.id,
                facts=facts,
                received_at=received_at,
                summary_ct=(
                    persons.encrypt_summary(person.data_key, consultation_id, personal.summary)
                    if personal.summary
                    else None
                ),
                event_id=event_id,
                trace_id=current_trace_id(),
                idempotency_key=idempotency_key,
                request_hash=fingerprint,
                household_id=household_id,
            )
        )
        if facts.consent is not None:
            await consents.record(
                store,
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
            consent=await consents.scope_in_force(store, person.person_id),
            new_case=person.new_case,
            consulted_by=facts.consulted_by,
            household_id=household_id,
            received_at=received_at,
            by_staff=agency.by_staff,
        )
        await store.record(event, event_id=event_id)
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


def _replay(earlier: EarlierSubmission, fingerprint: str) -> ConsultationAccepted:
    if earlier.request_hash != fingerprint:
        raise IdempotencyConflictError
    return ConsultationAccepted(
        consultation_id=earlier.consultation_id,
        case_id=earlier.case_id,
        person_id=earlier.person_id,
        new_case=earlier.new_case,
        household_id=earlier.household_id,
        event_id=earlier.event_id,
        trace_id=earlier.trace_id,
        replayed=True,
    )
