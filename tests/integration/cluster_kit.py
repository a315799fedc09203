"""Building blocks for the three-node cluster tests: a database schema of one's own, load through the
outbox, and what reached the effects table."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry import trace

from backbone.db import migrate
from backbone.outbox import Outbox, OutboxRelay
from backbone.settings import DeliverySettings
from devtools.local.replication import PartitionState, leaders
from tests.integration.kit import FAST_DELIVERY, consultation

TRACER = trace.get_tracer("tests")
KIT_MIGRATIONS = Path(__file__).parent / "kit_migrations"  # the stand-in effects table


@contextlib.asynccontextmanager
async def own_schema(dsn: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool whose outbox, inbox and effects live in a schema of their own in the `tests` database, so the
    relay here publishes this test's rows only and no other test's relay sees them; dropped afterwards."""
    schema = f"cluster_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(dsn)
    try:
        await admin.execute(f"CREATE SCHEMA {schema}")
        pool = await asyncpg.create_pool(dsn, min_size=1, max_size=8, server_settings={"search_path": schema})
        try:
            await migrate(pool, "kit-tests", KIT_MIGRATIONS)
            yield pool
        finally:
            await pool.close()
    finally:
        await admin.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        await admin.close()


async def write_events(pool: asyncpg.Pool, count: int, *, per_transaction: int = 20, pause: float = 0.03) -> None:
    """`count` consultations through the outbox, a few per transaction, at a steady pace (the load)."""
    outbox = Outbox("/tests/cluster")
    for first in range(0, count, per_transaction):
        async with pool.acquire() as conn, conn.transaction():
            for _ in range(min(per_transaction, count - first)):
                await outbox.add(conn, consultation())
        await asyncio.sleep(pause)


@contextlib.asynccontextmanager
async def relaying(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, settings: DeliverySettings = FAST_DELIVERY
) -> AsyncIterator[OutboxRelay]:
    """The outbox relay running as a service runs it, until the block ends."""
    relay = OutboxRelay(pool, producer, settings, TRACER)
    task = asyncio.create_task(relay.run())
    try:
        yield relay
        assert not task.done(), "the relay stopped by itself"
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


@dataclass(frozen=True)
class Delivery:
    written: int
    sent: int  # marked published by the relay
    applied: int  # effects of this schema's events
    events_applied: int  # distinct events among them

    @property
    def complete(self) -> bool:
        return self.sent == self.written and self.applied >= self.written


async def delivery(pool: asyncpg.Pool) -> Delivery:
    row = await pool.fetchrow(
        "SELECT (SELECT count(*) FROM outbox) AS written,"
        " (SELECT count(*) FROM outbox WHERE published_at IS NOT NULL) AS sent,"
        " (SELECT count(*) FROM test_effects e JOIN outbox o USING (event_id)) AS applied,"
        " (SELECT count(DISTINCT event_id) FROM test_effects e JOIN outbox o USING (event_id)) AS events_applied"
    )
    assert row is not None
    return Delivery(row["written"], row["sent"], row["applied"], row["events_applied"])


def busiest_leader(states: list[PartitionState]) -> int:
    """The node that leads the most partitions (the lowest id among equals)."""
    counts = leaders(states)
    return max(sorted(counts), key=lambda node: counts[node])
