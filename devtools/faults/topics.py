"""Reading back what a run wrote: where topics end now, and every record written since."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.structs import ConsumerRecord

from schemas.topics import TopicSpec

Offsets = dict[TopicPartition, int]


async def end_offsets(bootstrap: str, topics: Iterable[TopicSpec]) -> Offsets:
    """Where each partition of `topics` ends now: a run reads from here afterwards."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(spec.name, p) for spec in topics for p in range(spec.partitions)]
        return dict(await consumer.end_offsets(partitions))
    finally:
        await consumer.stop()


async def records_since(bootstrap: str, since: Offsets) -> AsyncIterator[ConsumerRecord[bytes, bytes]]:
    """Every record of those partitions from `since` to where each ends now, without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(since))
        pending = {tp for tp in since if ends[tp] > since[tp]}
        consumer.assign(list(pending))
        for tp in pending:
            consumer.seek(tp, since[tp])
        while pending:
            batch = await consumer.getmany(timeout_ms=1000)
            for tp, records in batch.items():
                for record in records:
                    yield record
                if records and records[-1].offset + 1 >= ends[tp]:
                    pending.discard(tp)
            if not batch:
                pending = {tp for tp in pending if await consumer.position(tp) < ends[tp]}
    finally:
        await consumer.stop()
