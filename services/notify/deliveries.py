"""Telling the receiving agency's on-call that a referral was proposed.

ASSUMPTION until the notify issue brings rosters and channels: the recipient is the agency's
`primary` on-call, and the channel is `record` (the delivery is written to notify's own table).
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

from backbone.db import Connection
from backbone.delivery import Handler
from backbone.outbox import Outbox
from backbone.records import Received
from backbone.telemetry import current_trace_id
from schemas.events import NotificationDelivered, ReferralProposed

RECORD_CHANNEL = "record"


def on_referral_proposed(outbox: Outbox) -> Handler[ReferralProposed]:
    async def handle(conn: Connection, received: Received[ReferralProposed]) -> None:
        referral = received.event
        notification_id, event_id = uuid4(), uuid4()
        delivered = NotificationDelivered(
            case_id=referral.case_id,
            notification_id=notification_id,
            cause_event_id=received.envelope.id,
            category="referral-proposed",
            recipient_agency=referral.to_agency,
            recipient_role="primary",
            channel=RECORD_CHANNEL,
            urgency=referral.urgency,
            delivered_at=datetime.now(UTC),
        )
        inserted = await conn.fetchval(
            "INSERT INTO deliveries (notification_id, case_id, cause_event_id, category, recipient_agency,"
            " recipient_role, channel, urgency, delivered_at, event_id, trace_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            " ON CONFLICT (cause_event_id, recipient_agency, recipient_role) DO NOTHING RETURNING true",
            notification_id,
            delivered.case_id,
            delivered.cause_event_id,
            delivered.category,
            delivered.recipient_agency,
            delivered.recipient_role,
            delivered.channel,
            delivered.urgency,
            delivered.delivered_at,
            event_id,
            current_trace_id(),
        )
        if inserted:
            await outbox.add(conn, delivered, caused_by=received.envelope, event_id=event_id)

    return handle
