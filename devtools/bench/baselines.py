"""Baselines: what Kafka and PostgreSQL do on this machine without the backbone around them.

- B1: Kafka's own producer performance tool (org.apache.kafka.tools.ProducerPerformance, from the same
  Maven artefacts as the broker) — 1 KB records, acks=all, idempotent.
- B2: a raw aiokafka round trip — batched produce (1 KB records, acks=all, idempotent) then consume in
  batches with a manual commit per batch, no database.
- B3: outbox-shaped PostgreSQL transactions — one business row and one outbox row each — over 8 connections.
"""

from __future__ import annotations

import asyncio
import os
import re
import uuid
from pathlib import Path

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from devtools.bench.measure import Stopwatch

RECORD = b"x" * 1024
# "100000 records sent, 45045.0 records/sec (43.99 MB/sec), 300.1 ms avg latency, …": the tool's last line.
TOOL_TIMEOUT_SECONDS = 300
_SUMMARY = re.compile(r"(\d+) records sent, ([\d.]+) records/sec")


async def kafka_producer_tool(libs: Path, bootstrap: str, topic: str, count: int) -> float:
    """Records per second as Kafka's own ProducerPerformance reports them."""
    tool = await asyncio.create_subprocess_exec(
        "java",
        "-Xmx512m",
        "-cp",
        f"{libs}/*",
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(count),
        "--record-size",
        str(len(RECORD)),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
        "enable.idempotence=true",
        "linger.ms=5",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    try:
        output, _ = await asyncio.wait_for(tool.communicate(), timeout=TOOL_TIMEOUT_SECONDS)
    except TimeoutError:
        tool.kill()
        await tool.wait()
        raise RuntimeError(f"ProducerPerformance took over {TOOL_TIMEOUT_SECONDS}s; does {topic} exist?") from None
    text = output.decode(errors="replace")
    summary = _SUMMARY.findall(text)
    if tool.returncode != 0 or not summary or int(summary[-1][0]) != count:
        raise RuntimeError(f"ProducerPerformance failed (exit {tool.returncode}):\n{text[-2000:]}")
    return float(summary[-1][1])


async def kafka_round_trip(bootstrap: str, topic: str, count: int) -> float:
    """Records per second from the first send to the last record consumed and committed."""
    group = f"bench-{uuid.uuid4().hex[:8]}"
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=group,
        enable_auto_commit=False,
        auto_offset_reset="latest",
        max_poll_records=2000,
    )
    await consumer.start()
    while not consumer.assignment():
        await consumer.getmany(timeout_ms=100)
    for partition in consumer.assignment():  # fix the starting offsets now, before anything is produced
        await consumer.position(partition)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
    await producer.start()
    try:
        with Stopwatch() as watch:
            futures = [await producer.send(topic, RECORD, key=str(n % 64).encode()) for n in range(count)]
            await asyncio.gather(*futures)
            seen = 0
            while seen < count:
                batch = await consumer.getmany(timeout_ms=500)
                seen += sum(len(records) for records in batch.values())
                if batch:
                    await consumer.commit()
        return count / watch.seconds
    finally:
        await producer.stop()
        await consumer.stop()


async def outbox_transactions(dsn: str, transactions: int, connections: int = 8) -> float:
    """Transactions per second, each writing one business row and one outbox row."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(dsn)
    await admin.execute(
        f"CREATE SCHEMA {schema};"
        f" CREATE TABLE {schema}.business (id uuid PRIMARY KEY, payload text NOT NULL);"
        f" CREATE TABLE {schema}.outbox (seq bigserial PRIMARY KEY, event_id uuid NOT NULL UNIQUE,"
        f"  topic text NOT NULL, payload bytea NOT NULL, published_at timestamptz)"
    )
    pool = await asyncpg.create_pool(dsn, min_size=connections, max_size=connections)
    payload = os.urandom(512)

    async def worker(share: int) -> None:
        async with pool.acquire() as conn:
            for _ in range(share):
                async with conn.transaction():
                    await conn.execute(f"INSERT INTO {schema}.business VALUES ($1, 'case')", uuid.uuid4())  # noqa: S608
                    await conn.execute(
                        f"INSERT INTO {schema}.outbox (event_id, topic, payload) VALUES ($1, 't', $2)",  # noqa: S608
                        uuid.uuid4(),
                        payload,
                    )

    try:
        with Stopwatch() as watch:
            await asyncio.gather(*(worker(transactions // connections) for _ in range(connections)))
        return (transactions // connections * connections) / watch.seconds
    finally:
        await pool.close()
        await admin.execute(f"DROP SCHEMA {schema} CASCADE")
        await admin.close()
