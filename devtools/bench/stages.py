"""The backbone's own figures, measured beside the baselines.

- P2: the relay + consume stage alone — outbox rows already committed → published by the kit's relay →
  consumed by the kit's subscription as the services consume (decoded, claimed in the inbox by the kit, ack
  after commit) → an inbox row and an effect row committed.
- A1: the same stage with audit's recording as its consumer: every record hashed, chained, signed and appended to
  a ledger, as audit appends every record of every topic.
- Q1: the audit trace query (a case's timeline) on a ledger of many events.
- L3: intake's POST latency at a fixed arrival rate (open loop: requests leave on schedule whatever the
  answers do).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import hashlib
import json
import random
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import httpx
from opentelemetry import trace

from backbone import collector
from backbone.db import Connection, migrate
from backbone.delivery import Subscription
from backbone.kafka import create_broker, create_producer, ensure_topics, place_group_at_end
from backbone.outbox import OutboxRelay
from backbone.records import Received
from backbone.settings import DeliverySettings, KafkaSettings
from devtools.bench.cpu import LOAD_GENERATOR, CpuMeter
from devtools.bench.measure import Stopwatch, open_loop, percentiles
from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES, TYPE_PREFIX, CaseEvent
from schemas.topics import TopicSpec, dead_letter_topic
from services.audit import ledger, queries, recording

BENCH_TOPIC = TopicSpec("bench.events.v1", 6, "benchmark traffic only")
AUDIT_MIGRATION = Path(__file__).resolve().parents[2] / "services" / "audit" / "migrations" / "001_ledger.sql"


async def ensure_bench_topic(bootstrap: str) -> None:
    await ensure_topics(bootstrap, [BENCH_TOPIC])


async def _schema_pool(dsn: str, schema: str, size: int = 8) -> asyncpg.Pool:
    admin = await asyncpg.connect(dsn)
    await admin.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
    await admin.close()
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=size, server_settings={"search_path": schema})
    assert pool is not None
    return pool


class BenchHappened(CaseEvent):
    """The benchmark's own event, on its own topic: known to the decoder only in the benchmark's process."""

    TYPE = TYPE_PREFIX + "bench.happened.v1"
    TOPIC = BENCH_TOPIC

    padding: str


@contextlib.contextmanager
def _bench_event_known() -> Iterator[None]:
    EVENT_TYPES[BenchHappened.TYPE] = BenchHappened
    try:
        yield
    finally:
        del EVENT_TYPES[BenchHappened.TYPE]


@contextlib.contextmanager
def _frozen_like_a_service() -> Iterator[None]:
    """What this process has built so far frozen, as `backbone serve` freezes a service's (backbone/collector.py)."""
    collector.freeze_start_up()
    try:
        yield
    finally:
        gc.unfreeze()  # the later stages' objects collected as the process's own again


async def relay_and_consume(dsn: str, bootstrap: str, count: int) -> float:
    """P2: events per second from committed outbox rows to committed effects downstream, consumed as the services
    consume: decoded and claimed in the inbox by the kit, then one effect row written by the handler; in a process
    whose start-up objects are frozen, as a service's are."""

    async def effects(pool: asyncpg.Pool, subscription: Subscription) -> Applied:
        await pool.execute("CREATE TABLE effects (event_id uuid PRIMARY KEY)")

        async def apply(conn: Connection, received: Received[BenchHappened]) -> None:
            await conn.execute("INSERT INTO effects VALUES ($1)", received.envelope.id)

        subscription.on(BenchHappened, apply)
        return Applied("effects")

    with _bench_event_known(), _frozen_like_a_service():
        return await _relay_then(dsn, bootstrap, count, effects)


async def relay_and_record(dsn: str, bootstrap: str, count: int) -> float:
    """A1: the same stage with audit's recording as the consumer, the one consumer that takes every record of every
    topic and has a single writer: each record hashed, chained under the ledger's lock and signed (Ed25519), then
    appended, in a ledger of the stage's own."""

    async def ledger_rows(pool: asyncpg.Pool, subscription: Subscription) -> Applied:
        await pool.execute(AUDIT_MIGRATION.read_text())
        signer = ledger.Signer.with_new_key()
        subscription.on_records(BENCH_TOPIC.name, recording.on_record(signer))

        async def chain_verifies(conn: Connection) -> None:
            findings = await ledger.verify(conn, signer.public)
            if findings:  # a rate of appends that broke the chain would measure nothing the ledger needs
                raise BenchStageError(f"A1's ledger does not verify at row {findings[0].seq}: {findings[0].problem}")

        return Applied("ledger", chain_verifies)

    with _frozen_like_a_service():
        return await _relay_then(dsn, bootstrap, count, ledger_rows)


class BenchStageError(Exception):
    """A stage that did not do what it measures: its figure would mean nothing."""


@dataclass(frozen=True)
class Applied:
    """Where a stage's consumer leaves one row per event it applied, and what must hold of them afterwards."""

    table: str
    check: Callable[[Connection], Awaitable[None]] | None = None


Consuming = Callable[[asyncpg.Pool, Subscription], Awaitable[Applied]]
"""Sets a stage's consumer up in the stage's schema."""

STAGE_DEADLINE = 300.0
"""Seconds a stage may take before it is stopped as stuck: P2's 10,000 events take a few seconds."""


async def _relay_then(dsn: str, bootstrap: str, count: int, consuming: Consuming) -> float:
    """`count` events committed to a fresh outbox, then timed from the relay's start until the consumer that
    `consuming` sets up has applied them all."""
    consumer = f"bench_{uuid.uuid4().hex[:8]}"
    pool = await _schema_pool(dsn, consumer)
    await migrate(pool, "bench", Path("/nonexistent"))  # the kit's outbox and inbox, in this schema
    await ensure_topics(bootstrap, [BENCH_TOPIC, dead_letter_topic(consumer)])
    now = datetime.now(UTC)
    rows = []
    for _ in range(count):
        event = BenchHappened(case_id=uuid.uuid4(), padding="x" * 400)
        envelope = Envelope(
            id=uuid.uuid4(), source="/bench", type=event.TYPE, time=now, correlationid=event.record_key()
        )
        payload = event.model_dump_json().encode()
        rows.append((envelope.id, BENCH_TOPIC.name, event.record_key(), json.dumps(envelope.to_headers()), payload))
    await pool.copy_records_to_table(
        "outbox", records=rows, columns=["event_id", "topic", "record_key", "headers", "payload"]
    )
    settings = KafkaSettings(bootstrap_servers=bootstrap)
    producer = create_producer(settings, client_id=consumer)
    await producer.start()
    tracer = trace.get_tracer("bench")
    subscription = Subscription(
        consumer, [BENCH_TOPIC.name], pool=pool, producer=producer, settings=DeliverySettings(), tracer=tracer
    )
    applied = await consuming(pool, subscription)
    await place_group_at_end(bootstrap, consumer, [BENCH_TOPIC.name])  # earlier runs' traffic is not ours
    broker = create_broker(settings, client_id=consumer)
    subscription.register(broker, batch_size=500)
    await broker.start()
    await asyncio.sleep(2)  # the group settles before the clock starts
    relay = OutboxRelay(pool, producer, DeliverySettings(relay_batch=2000), tracer)
    counting = f"SELECT count(*) FROM {applied.table}"  # noqa: S608 - the stage's own table
    task = asyncio.create_task(relay.run())
    try:
        with Stopwatch() as watch:
            while (done := await pool.fetchval(counting)) < count:
                if time.perf_counter() - watch.began > STAGE_DEADLINE:
                    raise BenchStageError(
                        f"{done:,} of {count:,} events applied after {STAGE_DEADLINE:.0f} s: the stage is stuck; "
                        "see the broker's and PostgreSQL's logs in $BACKBONE_HOME/logs"
                    )
                await asyncio.sleep(0.05)
        if applied.check is not None:
            async with pool.acquire() as conn:
                await applied.check(conn)
        return count / watch.seconds
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await broker.stop()
        await producer.stop()
        await pool.execute(f"DROP SCHEMA {consumer} CASCADE")
        await pool.close()


async def build_ledger(dsn: str, events: int, *, per_case: int = 10) -> tuple[str, list[str]]:
    """A ledger of `events` rows in a schema of its own (hash-chained and signed like the real one)."""
    schema = f"bench_ledger_{events}"
    pool = await _schema_pool(dsn, schema, size=2)
    try:
        if (
            await pool.fetchval("SELECT to_regclass('ledger') IS NOT NULL")
            and await pool.fetchval("SELECT count(*) FROM ledger") == events
        ):
            return schema, [r["case_id"] for r in await pool.fetch("SELECT DISTINCT case_id FROM ledger LIMIT 5000")]
        await pool.execute(f"DROP SCHEMA {schema} CASCADE; CREATE SCHEMA {schema}")
        await pool.execute(AUDIT_MIGRATION.read_text())
        signer = ledger.Signer.with_new_key()
        cases = [str(uuid.uuid4()) for _ in range(max(1, events // per_case))]
        prev, batch = ledger.GENESIS, []
        columns = [
            "seq",
            "topic",
            "event_id",
            "event_type",
            "case_id",
            "trace_id",
            "occurred_at",
            "canonical",
            "data",
            "event_hash",
            "prev_hash",
            "row_hash",
            "signature",
        ]
        base = datetime(2026, 4, 1, tzinfo=UTC).timestamp()
        for seq in range(1, events + 1):
            case = cases[seq % len(cases)]
            data = json.dumps({"case_id": case, "referral_id": str(uuid.uuid4()), "to_agency": "ikiiki-katase"})
            body = json.dumps({"topic": "referral.events.v1", "value": data}).encode()
            event_hash = hashlib.sha256(body).hexdigest()
            chained = ledger.row_hash(seq, prev, event_hash)
            batch.append(
                (
                    seq,
                    "referral.events.v1",
                    str(uuid.uuid4()),
                    "jp.fujisawa.welfare.referral.referral.proposed.v1",
                    case,
                    uuid.uuid4().hex,
                    datetime.fromtimestamp(base + seq, UTC),
                    body,
                    data,
                    event_hash,
                    prev,
                    chained,
                    signer.sign(chained),
                )
            )
            prev = chained
            if len(batch) == 20_000 or seq == events:
                await pool.copy_records_to_table("ledger", records=batch, columns=columns)
                batch = []
        await pool.execute("ANALYZE ledger")
        return schema, cases[:5000]
    finally:
        await pool.close()


async def trace_query_latency(dsn: str, schema: str, cases: list[str], queries_count: int) -> dict[str, float]:
    pool = await _schema_pool(dsn, schema, size=2)
    samples = []
    try:
        async with pool.acquire() as conn:
            for case in random.Random(1).choices(cases, k=queries_count):  # noqa: S311 - sampling
                began = time.perf_counter()
                await queries.case_timeline(conn, uuid.UUID(case))
                samples.append((time.perf_counter() - began) * 1000)
    finally:
        await pool.close()
    return percentiles(samples)


async def intake_post_latency(base_url: str, token: str, *, rate: float, seconds: float) -> dict[str, float]:
    """Open loop: request n leaves at n/rate seconds, whether or not earlier ones were answered. With the
    percentiles, the load generator's own CPU per request, so that it is not taken for intake's."""
    body = {
        "receiving_agency": token.split(".", 1)[0],
        "staff_id": "bench",
        "channel": "phone",
        "district": "katase",
        "domains": ["elderly"],
    }
    samples: list[float] = []
    errors = 0
    async with httpx.AsyncClient(
        base_url=base_url,
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
        limits=httpx.Limits(max_connections=200),
    ) as http:

        async def one() -> None:
            nonlocal errors
            began = time.perf_counter()
            try:
                answer = await http.post("/v1/consultations", json=body)
                errors += answer.status_code != 201
            except httpx.HTTPError:
                errors += 1
            samples.append((time.perf_counter() - began) * 1000)

        with CpuMeter() as meter:
            await open_loop(rate, int(rate * seconds), lambda _n: one())
    warm = samples[len(samples) // 10 :]  # the first 10% warm the connections up
    own = 1000 * meter.use.seconds.get(LOAD_GENERATOR, 0.0) / max(len(samples), 1)
    return percentiles(warm) | {
        "requests": float(len(samples)),
        "errors": float(errors),
        "load generator CPU ms/request": own,
    }
