"""The inbox: which events a consumer has already applied.

`claim_all` runs inside the consumer's transaction, before its effects. When an event was applied
before, its insert conflicts and the caller skips its effects: a redelivered record is "already
done", and because the row commits with the effects, a crash can never leave one without the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from backbone.db import Connection
from schemas.envelope import Envelope


@dataclass(frozen=True)
class Position:
    """Where a record was read from, kept with the inbox row for the audit trail."""

    topic: str
    partition: int
    offset: int


@dataclass(frozen=True)
class Claim:
    """One event of a consumed batch to claim: its envelope and where it was read."""

    envelope: Envelope
    position: Position


async def claim_all(conn: Connection, *, consumer: str, claims: list[Claim]) -> set[UUID]:
    """Claim the events of a batch (or one record's) in one statement; returns the ids this consumer had not applied
    before, and now owns applying.

    An event that appears twice in `claims` (a producer's retry read in the same batch) is claimed once, with its
    first position, as claiming one at a time would have done.
    """
    first: dict[UUID, Claim] = {}
    for each in claims:
        first.setdefault(each.envelope.id, each)
    if not first:
        return set()
    rows = await conn.fetch(
        "INSERT INTO inbox (consumer, event_id, event_type, topic, kafka_partition, kafka_offset)"
        " SELECT $1, * FROM unnest($2::uuid[], $3::text[], $4::text[], $5::integer[], $6::bigint[])"
        " ON CONFLICT DO NOTHING RETURNING event_id",
        consumer,
        list(first),
        [each.envelope.type for each in first.values()],
        [each.position.topic for each in first.values()],
        [each.position.partition for each in first.values()],
        [each.position.offset for each in first.values()],
    )
    return {row["event_id"] for row in rows}
