"""Independent Kafka access for tests: produce raw records, read topics back, place consumer groups."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

Record = ConsumerRecord[bytes, bytes]


async def end_offsets(bootstrap: str, topic: str) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        partitions = await _partitions(bootstrap, [topic])
        ends = await consumer.end_offsets(partitions)
        return {tp.partition: offset for tp, offset in ends.items()}
    finally:
        await consumer.stop()


async def _partitions(bootstrap: str, topics: list[str]) -> list[TopicPartition]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    return [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]


async def read_from(
    bootstrap: str,
    topic: str,
    since: dict[int, int],
    *,
    until: Callable[[list[Record]], bool],
    within: float = 30.0,
) -> list[Record]:
    """Records appended to `topic` after `since`, read until `until(records)` holds or time runs out."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    records: list[Record] = []
    try:
        partitions = [TopicPartition(topic, p) for p in since]
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, since[tp.partition])
        deadline = time.monotonic() + within
        while not until(records) and time.monotonic() < deadline:
            batch = await consumer.getmany(timeout_ms=200)
            for part in batch.values():
                records.extend(part)
        return records
    finally:
        await consumer.stop()


async def read_to_end(bootstrap: str, topic: str, since: dict[int, int], *, within: float = 30.0) -> list[Record]:
    """Every record appended to `topic` after `since` up to its end now: all of them, however slow the broker."""
    ends = await end_offsets(bootstrap, topic)
    count = sum(end - since.get(partition, 0) for partition, end in ends.items())
    if not count:  # nothing to read (and a consumer stopped the moment it started trips over its own start)
        return []
    return await read_from(bootstrap, topic, since, until=lambda records: len(records) >= count, within=within)


async def produce(
    bootstrap: str, topic: str, records: list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]
) -> None:
    """Send (key, value, headers) records in order and wait for every acknowledgement."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", enable_idempotence=True)
    await producer.start()
    try:
        futures = [await producer.send(topic, value=value, key=key, headers=headers) for key, value, headers in records]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def eventually(check: Callable[[], object], *, within: float = 30.0, every: float = 0.1) -> None:
    """Wait until the async `check()` returns something truthy; fail with a clear message otherwise."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        await asyncio.sleep(every)
    raise AssertionError(f"condition not met within {within}s")
