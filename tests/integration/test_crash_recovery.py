"""Crashes between the steps that matter, with real processes killed by SIGKILL."""

from __future__ import annotations

import asyncio
import json
import signal
import sys
import uuid

import asyncpg
from aiokafka import AIOKafkaProducer
from opentelemetry import trace

from backbone.db import Connection
from backbone.delivery import Subscription
from backbone.kafka import place_group_at_end
from backbone.outbox import OutboxRelay
from backbone.records import Received
from backbone.settings import DatabaseSettings
from schemas.events import ConsultationReceived
from schemas.topics import INTAKE_EVENTS
from tests.integration.kafka_tools import end_offsets, eventually, produce, read_from
from tests.integration.kit import FAST_DELIVERY, consultation, consuming, raw_record, record_effect

TOPIC = INTAKE_EVENTS.name
TRACER = trace.get_tracer("tests")


async def spawn(*args: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(sys.executable, "-m", *args, stdout=asyncio.subprocess.PIPE)


async def line_starting(stream: asyncio.StreamReader, prefix: bytes) -> bytes:
    """The first line of the child's output that starts with `prefix` (FastStream logs there too)."""
    while line := await stream.readline():
        if line.startswith(prefix):
            return line
    raise AssertionError(f"the process ended without printing {prefix!r}")


async def test_an_event_committed_before_a_crash_is_published_once_after_restart(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, tests_database: DatabaseSettings
) -> None:
    case_id = uuid.uuid4()
    since = await end_offsets(bootstrap, TOPIC)
    writer = await spawn("tests.integration.crash.outbox_writer", tests_database.dsn.get_secret_value(), str(case_id))
    out, _ = await writer.communicate()
    assert writer.returncode == -signal.SIGKILL
    event_id = out.decode().strip()
    row = await pool.fetchrow("SELECT published_at FROM outbox WHERE event_id = $1", uuid.UUID(event_id))
    assert row is not None and row["published_at"] is None  # committed, not published

    relay = OutboxRelay(pool, producer, FAST_DELIVERY, TRACER)  # "after restart"
    while await relay.relay_once():
        pass
    assert await relay.relay_once() == 0  # nothing left: a second pass publishes nothing again

    def ours(records: list) -> list:  # type: ignore[type-arg]
        return [r for r in records if dict(r.headers).get("ce_id") == event_id.encode()]

    records = await read_from(bootstrap, TOPIC, since, until=lambda got: False, within=2.0)
    assert len(ours(records)) == 1
    (record,) = ours(records)
    assert record.key == str(case_id).encode()
    assert json.loads(record.value)["case_id"] == str(case_id)


async def test_a_consumer_killed_mid_handler_processes_the_record_after_restart(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    bootstrap: str,
    tests_database: DatabaseSettings,
    consumer_name: str,
) -> None:
    event = consultation()
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    stalled = await spawn(
        "tests.integration.crash.stalled_consumer", tests_database.dsn.get_secret_value(), bootstrap, consumer_name
    )
    assert stalled.stdout is not None
    try:
        await asyncio.wait_for(line_starting(stalled.stdout, b"consuming"), 60)
        await produce(bootstrap, TOPIC, [raw_record(event)])
        await asyncio.wait_for(line_starting(stalled.stdout, b"in-handler"), 60)
    finally:
        stalled.send_signal(signal.SIGKILL)
        await stalled.wait()

    count = "SELECT count(*) FROM test_effects WHERE case_id = $1"
    assert await pool.fetchval(count, event.case_id) == 0  # the killed transaction left nothing

    sub = Subscription(consumer_name, [TOPIC], pool=pool, producer=producer, settings=FAST_DELIVERY, tracer=TRACER)
    sub.on(ConsultationReceived, record_effect)
    async with consuming(sub, bootstrap):  # the restart: same group, offset was never committed
        await eventually(lambda: pool.fetchval(count, event.case_id), within=60)
    assert await pool.fetchval(count, event.case_id) == 1


async def test_the_relay_killed_after_the_ack_but_before_marking_publishes_again_and_the_inbox_applies_once(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    bootstrap: str,
    tests_database: DatabaseSettings,
    consumer_name: str,
) -> None:
    case_id = uuid.uuid4()
    since = await end_offsets(bootstrap, TOPIC)
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    dsn = tests_database.dsn.get_secret_value()
    crashed = await spawn("tests.integration.crash.relay_after_ack", dsn, bootstrap, str(case_id))
    assert crashed.stdout is not None
    event_id = (await asyncio.wait_for(line_starting(crashed.stdout, b"acked "), 60)).split()[1].decode()
    assert await crashed.wait() == -signal.SIGKILL
    published = "SELECT published_at FROM outbox WHERE event_id = $1"
    assert await pool.fetchval(published, uuid.UUID(event_id)) is None  # on Kafka, but not marked sent

    relay = OutboxRelay(pool, producer, FAST_DELIVERY, TRACER)  # the restarted relay sends the row again
    while await relay.relay_once():
        pass
    assert await pool.fetchval(published, uuid.UUID(event_id)) is not None

    def ours(records: list) -> list:  # type: ignore[type-arg]
        return [r for r in records if dict(r.headers).get("ce_id") == event_id.encode()]

    records = await read_from(bootstrap, TOPIC, since, until=lambda got: len(ours(got)) >= 2, within=30)
    assert len(ours(records)) == 2  # the transport duplicate the crash causes

    sub = Subscription(consumer_name, [TOPIC], pool=pool, producer=producer, settings=FAST_DELIVERY, tracer=TRACER)
    sub.on(ConsultationReceived, record_effect)
    async with consuming(sub, bootstrap):
        await eventually(lambda: sub.stats.duplicates >= 1, within=60)
    count = "SELECT count(*) FROM test_effects WHERE case_id = $1"
    assert await pool.fetchval(count, case_id) == 1  # applied once, the copy recognised by the inbox


async def test_the_database_lost_during_an_inbox_commit_leaves_nothing_and_the_record_is_applied_once(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    event = consultation()
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    attempts = 0

    async def effect_then_lose_the_database(conn: Connection, received: Received[ConsultationReceived]) -> None:
        nonlocal attempts
        attempts += 1
        await record_effect(conn, received)
        if attempts == 1:
            # The server end of this very connection dies inside the inbox transaction, before its commit:
            # what the consumer sees when PostgreSQL is killed or the network drops at that moment.
            await pool.execute("SELECT pg_terminate_backend($1)", conn.get_server_pid())

    sub = Subscription(consumer_name, [TOPIC], pool=pool, producer=producer, settings=FAST_DELIVERY, tracer=TRACER)
    sub.on(ConsultationReceived, effect_then_lose_the_database)
    count = "SELECT count(*) FROM test_effects WHERE case_id = $1"
    async with consuming(sub, bootstrap):
        await produce(bootstrap, TOPIC, [raw_record(event)])
        await eventually(lambda: pool.fetchval(count, event.case_id), within=60)
        await asyncio.sleep(1)  # a second application, were there one, would have landed by now
    assert attempts == 2  # the lost transaction was tried again, on a new connection ...
    assert await pool.fetchval(count, event.case_id) == 1  # ... and its effect applied once
    assert sub.stats.dead_lettered == 0  # an outage, not poison
