"""`backbone dlq list` and `backbone dlq redrive`: a consumer's dead letters, looked at and applied again.

Listing reads `<consumer>.dlq.v1` without a consumer group (assigned partitions, from the log start to the
end offsets read first), so it never moves anything. Re-driving applies each dead letter through the
consumer's own handlers and inbox (`ServiceRuntime.consumer`), without joining the consumer's group, and
commits its progress under `<consumer>.dlq-redrive`: a second re-drive starts where the first stopped.
"""

from __future__ import annotations

import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import TypeAlias

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from backbone.acl import redrive_group  # the group its principal may use (the ACL model)
from backbone.db import create_pool
from backbone.deadletter import DeadLetter, NotADeadLetterError, describe, original_record
from backbone.delivery import Subscription, Verdict
from backbone.kafka import client_options, create_producer, topic_partitions
from backbone.service import ServiceRuntime
from backbone.settings import KafkaSettings
from console.errors import OperatorError
from schemas.topics import dead_letter_topic

Report = Callable[[str], None]
Record: TypeAlias = "ConsumerRecord[bytes, bytes]"
STALL_SECONDS = 30.0

# What `Subscription.process` returns, in the operator's words.
PROCESSED = {"applied": "applied", "duplicate": "already done", "ignored": "ignored", "dead-lettered": "failed again"}
REHEARSED: dict[Verdict, str] = {
    "would apply": "would apply",
    "already applied": "already done",
    "ignored": "ignored",
    "poison": "would be refused as poison",
    "would fail": "would fail again",
}


@dataclass(frozen=True)
class Listed:
    """A dead letter, and whether a re-drive has already taken it (committed past it)."""

    letter: DeadLetter
    redriven: bool


async def list_dead_letters(kafka: KafkaSettings, consumer: str) -> list[Listed]:
    """Every dead letter of `consumer` still in its topic, oldest first."""
    topic = dead_letter_topic(consumer).name
    client_id = f"backbone-{consumer}-dlq-list"
    partitions = await topic_partitions(kafka, [topic], client_id=client_id)
    progress = await _committed(kafka, redrive_group(consumer), partitions, client_id=client_id)
    listed: list[Listed] = []
    async with _reader(kafka, client_id=client_id, group=None) as reader:
        reader.assign(partitions)
        starts = await reader.beginning_offsets(partitions)
        ends = await reader.end_offsets(partitions)
        for partition in partitions:
            done = progress.get(partition, 0)
            records = between(reader, partition, starts[partition], ends[partition])
            listed.extend([Listed(describe(record), record.offset < done) async for record in records])
    return listed


async def redrive_service(runtime: ServiceRuntime, *, dry_run: bool, report: Report) -> Counter[str]:
    """`redrive` for a service: its consumer as `build_app` wires it, on a pool and producer of its own."""
    settings = runtime.settings
    async with contextlib.AsyncExitStack() as resources:
        pool = await create_pool(settings.database)
        resources.push_async_callback(pool.close)
        producer = create_producer(settings.kafka, client_id=f"backbone-{settings.service}-dlq-redrive")
        resources.push_async_callback(producer.stop)
        if not dry_run:  # a rehearsal never writes, so its producer never connects
            await producer.start()
        return await redrive(runtime.consumer(pool, producer), settings.kafka, dry_run=dry_run, report=report)


async def redrive(subscription: Subscription, kafka: KafkaSettings, *, dry_run: bool, report: Report) -> Counter[str]:
    """Apply (or, with `dry_run`, rehearse) the dead letters no re-drive has taken yet; counts the outcomes.

    Only what the topic holds now is taken: a record that fails again goes back to the end of the topic
    (by the Subscription's own dead-letter path, with its attempts) and waits for the next re-drive.
    """
    consumer = subscription.consumer
    client_id = f"backbone-{consumer}-dlq-redrive"
    partitions = await topic_partitions(kafka, [subscription.dead_letter_topic], client_id=client_id)
    outcomes: Counter[str] = Counter()
    async with _reader(kafka, client_id=client_id, group=redrive_group(consumer)) as reader:
        reader.assign(partitions)
        starts = await reader.beginning_offsets(partitions)
        ends = await reader.end_offsets(partitions)
        for partition in partitions:
            committed = await reader.committed(partition)
            start = max(committed or 0, starts[partition])
            async for letter in between(reader, partition, start, ends[partition]):
                outcome, detail = await (_rehearse(subscription, letter) if dry_run else _apply(subscription, letter))
                outcomes[outcome] += 1
                report(f"{_origin(letter)}  {outcome}{': ' + detail if detail else ''}")
                if not dry_run:
                    await reader.commit({partition: letter.offset + 1})
    return outcomes


async def _apply(subscription: Subscription, letter: Record) -> tuple[str, str]:
    try:
        record = original_record(letter)
    except NotADeadLetterError as error:
        return "left", str(error)
    return PROCESSED.get(await subscription.process(record), "?"), ""


async def _rehearse(subscription: Subscription, letter: Record) -> tuple[str, str]:
    try:
        record = original_record(letter)
    except NotADeadLetterError as error:
        return "would be left", str(error)
    rehearsal = await subscription.rehearse(record)
    return REHEARSED[rehearsal.verdict], rehearsal.detail


def _origin(letter: Record) -> str:
    described = describe(letter)
    origin = described.origin
    where = f"{origin.topic}[{origin.partition}]@{origin.offset}" if origin else "(origin unknown)"
    return f"offset {letter.offset}  {where}  {described.event_type or '-'} {described.event_id or '-'}"


async def between(reader: AIOKafkaConsumer, partition: TopicPartition, start: int, end: int) -> AsyncIterator[Record]:
    """The records of an assigned partition from offset `start` up to, not including, `end`."""
    reader.seek(partition, start)
    deadline = time.monotonic() + STALL_SECONDS
    while await reader.position(partition) < end:
        batch = await reader.getmany(partition, timeout_ms=1000, max_records=200)
        records = batch.get(partition, [])
        if not records and time.monotonic() > deadline:
            raise OperatorError(
                f"{partition.topic}[{partition.partition}] gave nothing for {STALL_SECONDS:.0f}s at offset "
                f"{await reader.position(partition)} before its end {end}; is Kafka healthy?"
            )
        if records:
            deadline = time.monotonic() + STALL_SECONDS
        for record in records:
            if record.offset >= end:
                return
            yield record


@contextlib.asynccontextmanager
async def _reader(kafka: KafkaSettings, *, client_id: str, group: str | None) -> AsyncIterator[AIOKafkaConsumer]:
    """A consumer for assigned partitions only: it never joins `group`, only commits to it."""
    reader = AIOKafkaConsumer(**client_options(kafka), client_id=client_id, group_id=group, enable_auto_commit=False)
    await reader.start()
    try:
        yield reader
    finally:
        await reader.stop()


async def _committed(
    kafka: KafkaSettings, group: str, partitions: list[TopicPartition], *, client_id: str
) -> dict[TopicPartition, int]:
    admin = AIOKafkaAdminClient(**client_options(kafka), client_id=client_id)
    await admin.start()
    try:
        found = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
    return {partition: meta.offset for partition, meta in found.items() if meta.offset >= 0}
