"""Consumes intake events and stalls inside the handler's transaction, after writing its effect.

The test SIGKILLs it there: the effect was never committed, so neither may the offset be.
Run as: python -m tests.integration.crash.stalled_consumer <dsn> <bootstrap> <consumer group>
"""

from __future__ import annotations

import asyncio
import sys

from opentelemetry import trace

from backbone.db import Connection, create_pool
from backbone.delivery import Subscription
from backbone.kafka import create_producer
from backbone.records import Received
from backbone.settings import DatabaseSettings, KafkaSettings
from schemas.events import ConsultationReceived
from schemas.topics import INTAKE_EVENTS
from tests.integration.kit import FAST_DELIVERY, consuming, record_effect


async def stall(conn: Connection, received: Received[ConsultationReceived]) -> None:
    await record_effect(conn, received)
    print(f"in-handler {received.envelope.id}", flush=True)
    await asyncio.sleep(600)


async def main(dsn: str, bootstrap: str, group: str) -> None:
    pool = await create_pool(DatabaseSettings(dsn=dsn))
    producer = create_producer(KafkaSettings(bootstrap_servers=bootstrap), client_id=group)
    await producer.start()
    sub = Subscription(
        group,
        [INTAKE_EVENTS.name],
        pool=pool,
        producer=producer,
        settings=FAST_DELIVERY,
        tracer=trace.get_tracer("tests"),
    )
    sub.on(ConsultationReceived, stall)
    async with consuming(sub, bootstrap):
        print("consuming", flush=True)
        await asyncio.sleep(600)


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
