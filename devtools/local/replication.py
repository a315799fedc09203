"""The backbone's topics on a replicated cluster, and where their replicas stand.

On three nodes every partition has three replicas and accepts a write (acks=all) only while two of them
are in sync: an acknowledged event then survives the loss of any one node, and with two nodes lost the
producers get errors instead of acknowledgements, so the events wait in the outbox.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterable

from aiokafka.admin import AIOKafkaAdminClient

from backbone.kafka import ensure_topics
from schemas.topics import ALL_TOPICS, TopicSpec

REPLICATION_FACTOR = 3
MIN_IN_SYNC = 2


def replicated(spec: TopicSpec) -> TopicSpec:
    """The topic as the cluster declares it: min.insync.replicas on the topic itself, so the guarantee
    does not hang on the brokers' default."""
    return dataclasses.replace(spec, configs={**spec.configs, "min.insync.replicas": str(MIN_IN_SYNC)})


async def ensure_replicated_topics(bootstrap_servers: str, specs: Iterable[TopicSpec] = ALL_TOPICS) -> list[str]:
    """Create the backbone's topics that do not exist yet, three replicas each; returns the names created."""
    return await ensure_topics(
        bootstrap_servers, [replicated(spec) for spec in specs], replication_factor=REPLICATION_FACTOR
    )


@dataclasses.dataclass(frozen=True, order=True)
class PartitionState:
    topic: str
    partition: int
    leader: int  # -1 while the partition has no leader
    replicas: tuple[int, ...]
    in_sync: tuple[int, ...]

    @property
    def fully_replicated(self) -> bool:
        return self.leader >= 0 and set(self.in_sync) == set(self.replicas)


async def partition_states(bootstrap_servers: str, topics: Iterable[str]) -> list[PartitionState]:
    """Leader, replicas and in-sync replicas of every partition of `topics`, from a metadata request."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, request_timeout_ms=5000)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    return sorted(
        PartitionState(
            topic=topic["topic"],
            partition=part["partition"],
            leader=part["leader"],
            replicas=tuple(part["replicas"]),
            in_sync=tuple(part["isr"]),
        )
        for topic in described
        for part in topic["partitions"]
    )


def leaders(states: Iterable[PartitionState]) -> Counter[int]:
    """How many partitions each node leads."""
    return Counter(state.leader for state in states if state.leader >= 0)


def under_replicated(states: Iterable[PartitionState]) -> list[PartitionState]:
    return [state for state in states if not state.fully_replicated]
