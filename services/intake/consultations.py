"""Recording a consultation: the row and its ConsultationReceived event in one transaction."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from uuid import uuid4

import asyncpg

from backbone.db import Connection
from backbone.outbox import Outbox
from backbone.telemetry import current_trace_id
from schemas.events import ConsultationReceived
from services.intake.submission import ConsultationAccepted, ConsultationSubmission


class IdempotencyConflictError(Exception):
    """The idempotency key was used before for a different submission."""


async def receive(
    conn: Connection,
    outbox: Outbox,
    submission: ConsultationSubmission,
    *,
    idempotency_key: str | None,
) -> ConsultationAccepted:
    request_hash = hashlib.sha256(submission.model_dump_json().encode()).hexdigest()
    async with conn.transaction():
        if idempotency_key is not None:
            earlier = await _earlier(conn, submission.receiving_agency, idempotency_key)
            if earlier is not None:
                return _replay(earlier, request_hash)
        consultation_id, case_id, event_id = uuid4(), uuid4(), uuid4()
        event = ConsultationReceived(
            case_id=case_id,
            consultation_id=consultation_id,
            receiving_agency=submission.receiving_agency,
            channel=submission.channel,
            district=submission.district,
            domains=submission.domains,
            urgency=submission.urgency,
            consent=submission.consent,
            received_at=submission.received_at or datetime.now(UTC),
        )
        inserted = await conn.fetchval(
            "INSERT INTO consultations (consultation_id, case_id, receiving_agency, channel, district, domains,"
            " urgency, received_at, event_id, trace_id, idempotency_key, request_hash)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
            " ON CONFLICT (receiving_agency, idempotency_key) DO NOTHING RETURNING true",
            consultation_id,
            case_id,
            event.receiving_agency,
            event.channel,
            event.district,
            list(event.domains),
            event.urgency,
            event.received_at,
            event_id,
            current_trace_id(),
            idempotency_key,
            request_hash,
        )
        if not inserted:  # a concurrent retry with the same key committed first
            earlier = await _earlier(conn, submission.receiving_agency, idempotency_key or "")
            if earlier is None:
                raise RuntimeError("idempotency conflict without an earlier row")
            return _replay(earlier, request_hash)
        await outbox.add(conn, event, event_id=event_id)
    return ConsultationAccepted(
        consultation_id=consultation_id,
        case_id=case_id,
        event_id=event_id,
        trace_id=current_trace_id(),
        replayed=False,
    )


async def _earlier(conn: Connection, agency: str, key: str) -> asyncpg.Record | None:
    return await conn.fetchrow(
        "SELECT consultation_id, case_id, event_id, trace_id, request_hash FROM consultations"
        " WHERE receiving_agency = $1 AND idempotency_key = $2",
        agency,
        key,
    )


def _replay(earlier: asyncpg.Record, request_hash: str) -> ConsultationAccepted:
    if earlier["request_hash"] != request_hash:
        raise IdempotencyConflictError
    return ConsultationAccepted(
        consultation_id=earlier["consultation_id"],
        case_id=earlier["case_id"],
        event_id=earlier["event_id"],
        trace_id=earlier["trace_id"],
        replayed=True,
    )
