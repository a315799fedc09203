"""Commits one event, relays it, and dies by SIGKILL after Kafka acknowledged it but before the row is marked sent.

Run as: python -m tests.integration.crash.relay_after_ack <dsn> <bootstrap> <case id>
Prints "acked <event id>" just before it dies.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid
from typing import Any

import asyncpg
from opentelemetry import trace

from backbone.kafka import create_producer
from backbone.outbox import Outbox, OutboxRelay
from backbone.settings import DeliverySettings, KafkaSettings
from tests.integration.kit import consultation


async def main(dsn: str, bootstrap: str, case_id: uuid.UUID) -> None:
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    async with pool.acquire() as conn, conn.transaction():
        envelope = await Outbox(source="/tests/crash").add(conn, consultation(case_id))
    producer = create_producer(KafkaSettings(bootstrap_servers=bootstrap), client_id="crash-relay")
    await producer.start()
    execute = asyncpg.Connection.execute

    async def die_before_marking(self: asyncpg.Connection, query: str, *args: Any, **kwargs: Any) -> str:
        if query.startswith("UPDATE outbox SET published_at"):  # every record of the batch is acknowledged
            print(f"acked {envelope.id}", flush=True)
            os.kill(os.getpid(), signal.SIGKILL)
        return await execute(self, query, *args, **kwargs)

    asyncpg.Connection.execute = die_before_marking  # type: ignore[method-assign, assignment]
    relay = OutboxRelay(pool, producer, DeliverySettings(), trace.get_tracer("crash"))
    while True:
        await relay.relay_once()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], uuid.UUID(sys.argv[3])))
