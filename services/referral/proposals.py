"""From a received consultation to a proposed referral, in the consumer's transaction.

Out of order: referral consumes only ConsultationReceived, keyed by case, so the consultations of one
case arrive in the order intake wrote them. A consultation already routed (a redelivery, or the same
event id after a replay) is absorbed by the inbox and by the unique (consultation, attempt) index.
"""

from __future__ import annotations

from datetime import UTC, datetime

from backbone.db import Connection
from backbone.delivery import Handler
from backbone.records import Received
from schemas.events import ConsultationReceived
from services.referral.casework import Casework, Need


def on_consultation_received(casework: Casework) -> Handler[ConsultationReceived]:
    """Route the consultation and propose a referral to the chosen agency."""

    async def handle(conn: Connection, received: Received[ConsultationReceived]) -> None:
        consultation = received.event
        need = Need(
            case_id=consultation.case_id,
            consultation_id=consultation.consultation_id,
            from_agency=consultation.receiving_agency,
            district=consultation.district,
            domains=consultation.domains,
            urgency=consultation.urgency,
            person_id=consultation.person_id,
            household_id=None if consultation.new_case else consultation.household_id,
        )
        store = casework.on(conn)
        await casework.open_case(store, need, caused_by=received.envelope, now=datetime.now(UTC))
        await store.remember_person(consultation.case_id, consultation.person_id)

    return handle
