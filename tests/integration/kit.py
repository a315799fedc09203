"""Building blocks for the runtime kit's integration tests."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

from backbone.db import Connection
from backbone.delivery import Subscription
from backbone.kafka import create_broker, encode_headers, ensure_topics
from backbone.records import Received
from backbone.settings import DeliverySettings, KafkaSettings
from schemas.envelope import Envelope
from schemas.events import ConsultationReceived
from schemas.topics import dead_letter_topic
from schemas.vocabulary import Channel, District, SupportDomain, Urgency

# Quick retries so the dead-letter path is reached in well under a second.
FAST_DELIVERY = DeliverySettings(max_attempts=3, retry_base_seconds=0.05, retry_max_seconds=0.5, relay_poll_seconds=0.1)


def consultation(case_id: uuid.UUID | None = None) -> ConsultationReceived:
    return ConsultationReceived(
        case_id=case_id or uuid.uuid4(),
        consultation_id=uuid.uuid4(),
        person_id=uuid.uuid4(),
        receiving_agency="chiku-fukushi-katase",
        channel=Channel.COUNTER,
        district=District.KATASE,
        domains=(SupportDomain.ELDERLY,),
        urgency=Urgency.NORMAL,
        received_at=datetime.now(UTC),
    )


def raw_record(
    event: ConsultationReceived, *, event_id: uuid.UUID | None = None
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """(key, value, headers) of an event as the backbone writes it, without the outbox."""
    envelope = Envelope(
        id=event_id or uuid.uuid4(),
        source="/tests",
        type=event.TYPE,
        time=datetime.now(UTC),
        subject=f"case/{event.case_id}",
        correlationid=str(event.case_id),
    )
    return str(event.case_id).encode(), event.model_dump_json().encode(), encode_headers(envelope.to_headers())


async def record_effect(conn: Connection, received: Received[ConsultationReceived]) -> None:
    """The stand-in effect: one row per applied event, in the consumer's transaction."""
    await conn.execute(
        "INSERT INTO test_effects (consumer, event_id, case_id) VALUES ('kit', $1, $2)",
        received.envelope.id,
        received.event.case_id,
    )


@contextlib.asynccontextmanager
async def consuming(subscription: Subscription, bootstrap: str) -> AsyncIterator[None]:
    """Run the subscription on a FastStream broker of its own until the block ends."""
    await ensure_topics(bootstrap, [dead_letter_topic(subscription.consumer)])
    broker = create_broker(KafkaSettings(bootstrap_servers=bootstrap), client_id=subscription.consumer)
    subscription.register(broker, batch_size=50)
    await broker.start()
    try:
        yield
    finally:
        await broker.stop()
