"""The inbox: which events a consumer has already applied.

`claim` runs inside the consumer's transaction, before its effects. When the event was applied
before, the insert conflicts and the caller skips the effects: a redelivered record is "already
done", and because the row commits with the effects, a crash can never leave one without the other.
"""

from __future__ import annotations

from dataclasses import dataclass

from backbone.db import Connection
from schemas.envelope import Envelope


@dataclass(frozen=True)
class Position:
    """Where a record was read from, kept with the inbox row for the audit trail."""

    topic: str
    partition: int
    offset: int


async def claim(conn: Connection, *, consumer: str, envelope: Envelope, position: Position) -> bool:
    """True when this consumer has not applied the event before (and now owns applying it)."""
    inserted = await conn.fetchval(
        "INSERT INTO inbox (consumer, event_id, event_type, topic, kafka_partition, kafka_offset)"
        " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING true",
        consumer,
        envelope.id,
        envelope.type,
        position.topic,
        position.partition,
        position.offset,
    )
    return bool(inserted)
