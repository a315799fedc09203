"""The transactional outbox: handlers write events with their rows; a relay publishes them.

A handler never publishes. `Outbox.add` writes the event, its CloudEvents headers and the current
trace context in the caller's transaction, so an event exists exactly when the change that caused it
was committed. `OutboxRelay` publishes unsent rows in order, in batches, with the idempotent
producer, and marks them sent only after Kafka acknowledged every record of the batch. A crash
between the two publishes the batch again: consumers' inboxes absorb the duplicate.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from backbone import involvement, keylocks, logs
from backbone.db import Connection
from backbone.kafka import encode_headers
from backbone.loops import Wakeup, keep_running
from backbone.settings import DeliverySettings
from backbone.telemetry import context_from_headers, inject_trace_headers
from schemas.envelope import Envelope
from schemas.events import Event

log = logging.getLogger(__name__)

# Only one relay per service database publishes at a time, so rows leave in `seq` order and the
# events of a case keep their order across relay instances.
_RELAY_LOCK = 727_002


class Outbox:
    """Writes outgoing events inside the caller's transaction."""

    def __init__(self, source: str) -> None:
        self.source = source

    @classmethod
    def of(cls, service: str) -> Outbox:
        """The outbox of a service, whose events name it as their CloudEvents `source`."""
        return cls(source=f"/fujisawa/backbone/{service}")

    async def add(
        self,
        conn: Connection,
        event: Event,
        *,
        caused_by: Envelope | UUID | None = None,
        event_id: UUID | None = None,
    ) -> Envelope:
        """Write `event` to the outbox in the caller's transaction. `caused_by` is the event (or its id) that
        led to this one; `event_id` when the caller needs to store the id in its own row first."""
        # The key's lock before the time is stamped: a key's events are then stamped in the order they commit.
        await keylocks.hold(conn, event.record_key())
        envelope = Envelope(
            id=event_id or uuid4(),
            source=self.source,
            type=event.TYPE,
            time=datetime.now(UTC),
            subject=event.subject(),
            dataschema=event.dataschema(),
            correlationid=event.record_key(),
            causationid=str(caused_by.id if isinstance(caused_by, Envelope) else caused_by) if caused_by else None,
        )
        headers = envelope.to_headers()
        inject_trace_headers(headers)
        row = (envelope.id, event.TOPIC.name, event.record_key(), json.dumps(headers), event.model_dump_json().encode())
        # Need to know: whom this service's own event involves, recorded in the same round trip as the row.
        adding = "INSERT INTO outbox (event_id, topic, record_key, headers, payload) VALUES ($1, $2, $3, $4, $5)"
        await involvement.record(conn, event, along=(adding, row))
        return envelope


class OutboxRelay:
    """Publishes committed outbox rows to Kafka; one cancellable task per service process."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        settings: DeliverySettings,
        tracer: trace.Tracer,
    ) -> None:
        self.pool = pool
        self.producer = producer
        self.settings = settings
        self.tracer = tracer
        self.published = 0
        self.wakeup = Wakeup(pool, "outbox", settings.relay_poll_seconds)

    async def run(self) -> None:
        """Relay until cancelled: after every commit that wrote events, and at least every poll interval.

        Any failure (database or Kafka unreachable) is retried with capped backoff; the relay never
        gives up, because unsent rows simply wait in the outbox until it succeeds.
        """
        async with self.wakeup.listening():
            await keep_running(
                "outbox relay",
                self.relay_once,
                idle=self.wakeup.wait,
                busy_below=self.settings.relay_batch,
                backoff_base=self.settings.retry_base_seconds,
                backoff_max=self.settings.retry_max_seconds,
            )

    async def relay_once(self) -> int:
        """Publish one batch of unsent rows; returns how many were published."""
        async with self.pool.acquire() as conn, conn.transaction():
            if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _RELAY_LOCK):
                return 0
            rows = await conn.fetch(
                "SELECT seq, topic, record_key, headers, payload FROM outbox"
                " WHERE published_at IS NULL ORDER BY seq LIMIT $1",
                self.settings.relay_batch,
            )
            if not rows:
                return 0
            sends = [await publish_row(self.producer, self.tracer, row) for row in rows]
            await self._acknowledged(asyncio.gather(*sends), len(sends))  # all acked (acks=all) before marking
            await conn.execute(
                "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])",
                [row["seq"] for row in rows],
            )
        self.published += len(rows)
        for row in rows:  # the service's line per business event: what it recorded, now that Kafka has it
            headers = json.loads(row["headers"])
            event_type = headers.get("ce_type", "?")
            if log.isEnabledFor(level := logs.published_level(event_type)):
                log.log(level, "published %s", event_type, extra=logs.event_fields(headers, row["topic"]))
        return len(rows)

    async def _acknowledged(self, sends: asyncio.Future[list[object]], count: int) -> None:
        """Wait for the batch's acknowledgements, and say so in the log while they do not come."""
        began = time.monotonic()
        try:
            while not (await asyncio.wait([sends], timeout=self.settings.relay_stall_warning_seconds))[0]:
                log.warning(
                    "outbox relay: Kafka has not acknowledged a batch of %d for %.0fs; still waiting, the rows stay"
                    " in the outbox. Check that the brokers are reachable and that enough replicas are in sync"
                    " (min.insync.replicas).",
                    count,
                    time.monotonic() - began,
                )
        finally:
            sends.cancel()  # a no-op once acknowledged; on cancellation, the producer's futures go with it
        sends.result()


async def publish_row(
    producer: AIOKafkaProducer, tracer: trace.Tracer, row: asyncpg.Record, *, replayed: bool = False
) -> asyncio.Future[object]:
    """Send one outbox row (topic, record_key, headers, payload) with its key and headers; returns the
    future that resolves when Kafka acknowledged it. The PRODUCER span continues the trace of the
    transaction that wrote the row, not the caller's, and its context replaces the row's `traceparent`."""
    headers: dict[str, str] = json.loads(row["headers"])
    attributes: dict[str, str | bool] = {
        "messaging.system": "kafka",
        "messaging.destination.name": row["topic"],
        "messaging.message.id": headers.get("ce_id", ""),
    }
    if replayed:
        attributes["backbone.replayed"] = True
    with tracer.start_as_current_span(
        f"{row['topic']} publish", context=context_from_headers(headers), kind=SpanKind.PRODUCER, attributes=attributes
    ):
        inject_trace_headers(headers)
        future: asyncio.Future[object] = await producer.send(
            row["topic"],
            value=row["payload"],
            key=row["record_key"].encode(),
            headers=encode_headers(headers),
        )
    return future


@contextlib.asynccontextmanager
async def relay_paused(pool: asyncpg.Pool) -> AsyncIterator[None]:
    """Hold back every relay of this database until the block ends (they skip their turns meanwhile).

    Takes the relays' own lock in a transaction held open for the block, waiting for a batch in flight to finish
    first; so rows published inside the block (an operator's replay) never interleave with the relays' new ones.
    The lock ends with the transaction, however the block ends: a pooled connection never keeps it (the pool does
    not reset sessions, `backbone.db.create_pool`).
    """
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", _RELAY_LOCK)
        yield


class TransactionStore:
    """The base of a service's store: the transaction open on `conn`, and the outbox its events are recorded in,
    so that a step's changes and its events commit together."""

    def __init__(self, conn: Connection, outbox: Outbox) -> None:
        self.conn = conn
        self.outbox = outbox

    async def record(
        self, event: Event, *, caused_by: Envelope | UUID | None = None, event_id: UUID | None = None
    ) -> Envelope:
        """Publish `event` when the transaction commits."""
        return await self.outbox.add(self.conn, event, caused_by=caused_by, event_id=event_id)
