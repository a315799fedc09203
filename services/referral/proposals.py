"""From a received consultation to a proposed referral, in the consumer's transaction."""

from __future__ import annotations

from uuid import uuid4

from backbone.db import Connection
from backbone.delivery import Handler
from backbone.outbox import Outbox
from backbone.records import Received
from backbone.telemetry import current_trace_id
from schemas.events import ConsultationReceived, ReferralProposed
from services.referral.routing import respond_by, route


def on_consultation_received(outbox: Outbox) -> Handler[ConsultationReceived]:
    """Route the consultation and propose a referral to the chosen agency."""

    async def handle(conn: Connection, received: Received[ConsultationReceived]) -> None:
        consultation = received.event
        chosen = route(consultation.district, consultation.domains)
        referral_id, event_id = uuid4(), uuid4()
        proposal = ReferralProposed(
            case_id=consultation.case_id,
            referral_id=referral_id,
            consultation_id=consultation.consultation_id,
            from_agency=consultation.receiving_agency,
            to_agency=chosen.agency,
            district=consultation.district,
            domains=consultation.domains,
            urgency=consultation.urgency,
            routing_rule=chosen.rule,
            respond_by=respond_by(consultation.received_at, consultation.urgency),
        )
        await conn.execute(
            "INSERT INTO referrals (referral_id, case_id, consultation_id, from_agency, to_agency, district,"
            " domains, urgency, routing_rule, respond_by, cause_event_id, event_id, trace_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
            referral_id,
            proposal.case_id,
            proposal.consultation_id,
            proposal.from_agency,
            proposal.to_agency,
            proposal.district,
            list(proposal.domains),
            proposal.urgency,
            proposal.routing_rule,
            proposal.respond_by,
            received.envelope.id,
            event_id,
            current_trace_id(),
        )
        await outbox.add(conn, proposal, caused_by=received.envelope, event_id=event_id)

    return handle
