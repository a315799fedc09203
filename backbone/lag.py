"""Consumer lag: how many records of a partition the service's consumer group has not consumed yet.

Lag is the partition's log end offset minus the group's committed offset. The group commits only after a
batch was applied (or dead-lettered), so this counts every record not yet safely done, including those
being applied right now.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Mapping

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata

from backbone.kafka import client_options
from backbone.settings import KafkaSettings


def partition_lag(*, end: int, start: int, committed: int | None) -> int:
    """Records from the group's position to the log end of one partition.

    A group with no committed offset (`None`, or Kafka's -1) starts at the earliest record
    (`auto_offset_reset="earliest"`), and so does one whose committed offset retention has already
    deleted; either way its position is the log start offset.
    """
    position = start if committed is None or committed < start else committed
    return max(end - position, 0)


def lag_by_partition(
    *,
    ends: Mapping[TopicPartition, int],
    starts: Mapping[TopicPartition, int],
    committed: Mapping[TopicPartition, OffsetAndMetadata],
) -> dict[TopicPartition, int]:
    """The lag of every partition whose log end is known."""
    return {
        partition: partition_lag(
            end=end,
            start=starts.get(partition, 0),
            committed=committed[partition].offset if partition in committed else None,
        )
        for partition, end in ends.items()
    }


class LagReader:
    """Reads a consumer group's committed offsets and its partitions' log ends, with clients of its own.

    The clients open on first use and are dropped after any failure, so that the next reading starts
    afresh once Kafka is back. The consumer has no group: reading log ends must never join, and so
    rebalance, the group it measures.
    """

    def __init__(self, settings: KafkaSettings, *, group: str, client_id: str, timeout_ms: int = 10_000) -> None:
        self.settings = settings
        self.group = group
        self.client_id = client_id
        self.timeout_ms = timeout_ms
        self._admin: AIOKafkaAdminClient | None = None
        self._consumer: AIOKafkaConsumer | None = None

    async def read(self, partitions: Collection[TopicPartition]) -> dict[TopicPartition, int]:
        """The lag of each of `partitions`; raises when Kafka does not answer within the timeout."""
        if not partitions:
            return {}
        wanted = sorted(partitions)
        try:
            admin, consumer = await self._clients()
            # Committed offsets before log ends: the other way round, a commit landing in between could
            # place the position past the end just read.
            committed = await admin.list_consumer_group_offsets(self.group, partitions=wanted)
            starts = await consumer.beginning_offsets(wanted)
            ends = await consumer.end_offsets(wanted)
        except Exception:
            await self.close()
            raise
        return lag_by_partition(ends=ends, starts=starts, committed=committed)

    async def close(self) -> None:
        admin, consumer = self._admin, self._consumer
        self._admin = self._consumer = None
        # Closing after a failure may fail again on the same dead connection; there is nothing left to save.
        if consumer is not None:
            with contextlib.suppress(Exception):
                await consumer.stop()
        if admin is not None:
            with contextlib.suppress(Exception):
                await admin.close()

    async def _clients(self) -> tuple[AIOKafkaAdminClient, AIOKafkaConsumer]:
        if self._admin is None or self._consumer is None:
            options = client_options(self.settings)
            self._admin = AIOKafkaAdminClient(**options, client_id=self.client_id, request_timeout_ms=self.timeout_ms)
            self._consumer = AIOKafkaConsumer(
                **options,
                client_id=self.client_id,
                group_id=None,
                enable_auto_commit=False,
                request_timeout_ms=self.timeout_ms,
            )
            await self._admin.start()
            await self._consumer.start()
        return self._admin, self._consumer
