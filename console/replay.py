"""`backbone outbox replay`: publish a service's already-sent outbox rows again, as they were sent.

Used when a consumer lost effects it had acknowledged (its database restored to an earlier point, or a bug
fixed that needs events applied again). Each row goes out with its original event id, key, headers and
payload, through a producer configured like the relay's (idempotent, acks=all), in `seq` order; every
consumer's inbox recognises what it has already applied, so only missing effects happen. `published_at`
is left as it is: the rows were sent, and the relay must not send them a third time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass

import asyncpg

from backbone.db import create_pool
from backbone.kafka import create_producer
from backbone.outbox import publish_row, relay_paused
from backbone.settings import ServiceSettings
from backbone.telemetry import setup_tracing
from console.errors import OperatorError
from console.window import Window

Report = Callable[[str], None]

# The window: sent at or after $1 and, when $2 is given, before it; $3 and $4 bound `seq` for batching.
_PLAN = (
    "SELECT topic, count(*) AS n, min(seq) AS first, max(seq) AS last FROM outbox"
    " WHERE published_at >= $1 AND ($2::timestamptz IS NULL OR published_at < $2) GROUP BY topic"
)
_BATCH = (
    "SELECT seq, topic, record_key, headers, payload FROM outbox"
    " WHERE published_at >= $1 AND ($2::timestamptz IS NULL OR published_at < $2)"
    " AND seq > $3 AND seq <= $4 ORDER BY seq LIMIT $5"
)


@dataclass(frozen=True)
class Plan:
    """What a replay of the window publishes: rows per topic and the `seq` range they span."""

    rows_by_topic: dict[str, int]
    first: int
    last: int

    @property
    def total(self) -> int:
        return sum(self.rows_by_topic.values())


async def replay(settings: ServiceSettings, window: Window, *, dry_run: bool, batch: int, report: Report) -> int:
    """Re-publish the window's rows (or, with `dry_run`, only say which); returns how many."""
    pool = await create_pool(settings.database)
    try:
        plan = await _plan(pool, window, settings.service)
        if plan is None:
            report(f"{settings.service}: no outbox row was sent in that window; nothing to replay")
            return 0
        counts = ", ".join(f"{rows:,} on {topic}" for topic, rows in sorted(plan.rows_by_topic.items()))
        report(f"{settings.service}: {plan.total:,} rows sent in the window (seq {plan.first}…{plan.last}): {counts}")
        if dry_run:
            report("dry run: nothing was published")
            return plan.total
        return await _publish(pool, settings, window, plan, batch=batch, report=report)
    finally:
        await pool.close()


async def _plan(pool: asyncpg.Pool, window: Window, service: str) -> Plan | None:
    try:
        rows = await pool.fetch(_PLAN, window.since, window.until)
    except asyncpg.UndefinedTableError:
        raise OperatorError(f"{service}'s database has no outbox yet: the service has never started on it") from None
    if not rows:
        return None
    return Plan({row["topic"]: row["n"] for row in rows}, min(r["first"] for r in rows), max(r["last"] for r in rows))


async def _publish(
    pool: asyncpg.Pool, settings: ServiceSettings, window: Window, plan: Plan, *, batch: int, report: Report
) -> int:
    service = settings.service
    tracer = setup_tracing(settings.telemetry, service)
    producer = create_producer(settings.kafka, client_id=f"backbone-{service}-outbox-replay")
    await producer.start()
    done, after = 0, plan.first - 1
    try:
        # The relay waits meanwhile, so a case's replayed events are not interleaved with its new ones.
        async with relay_paused(pool):
            while rows := await pool.fetch(_BATCH, window.since, window.until, after, plan.last, batch):
                sends = [await publish_row(producer, tracer, row, replayed=True) for row in rows]
                await asyncio.gather(*sends)  # acknowledged (acks=all) before the next batch and the count
                done, after = done + len(rows), rows[-1]["seq"]
                report(f"{service}: {done:,} / {plan.total:,} rows re-published")
    finally:
        await producer.stop()
    return done
