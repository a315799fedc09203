"""`backbone offsets rewind`: move a stopped service's consumer group back to a moment, so it consumes again.

Used after a service's database was restored to a backup taken at T (docs/runbook.md, Restore PostgreSQL):
the group's committed offsets say "done" for what the restored database no longer has. Rewinding puts each
partition at the first record written at or after T (less the operator's margin), and the service's inbox,
restored as of T, skips what it had applied before T. It acts as the service's own principal: Read on its
group and its topics is enough, which is what Kubernetes' one-off pod has.

A partition is never moved forward (that would skip records), and one the group never committed is left
alone (the group starts at the log start there anyway). The group must have no members: offsets committed
under a running consumer would be overwritten by it, or refused.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import GroupIdNotFound, for_code

from backbone.kafka import client_options, topic_partitions
from backbone.settings import KafkaSettings
from console.errors import OperatorError

Report = Callable[[str], None]
IDLE_STATES = frozenset({"Empty", "Dead"})


@dataclass(frozen=True)
class Move:
    """One partition of the group, from its committed offset back to `to`."""

    partition: TopicPartition
    committed: int
    to: int

    @property
    def again(self) -> int:
        """How many records the group will consume again there."""
        return self.committed - self.to


def rewind_moves(
    committed: Mapping[TopicPartition, int],
    first_at: Mapping[TopicPartition, int | None],
    ends: Mapping[TopicPartition, int],
) -> list[Move]:
    """Each partition the group has committed goes to the first record at or after the moment (`first_at`;
    None when no record is that recent, which means the log end), unless the group is not past it yet."""
    moves = []
    for partition, done in sorted(committed.items()):
        found = first_at.get(partition)
        target = ends.get(partition, done) if found is None else found
        if target < done:
            moves.append(Move(partition, done, target))
    return moves


async def rewind(
    kafka: KafkaSettings, group: str, topics: Sequence[str], moment: datetime, *, dry_run: bool, report: Report
) -> list[Move]:
    """Commit the rewound offsets of `group` on `topics` (or, with `dry_run`, only say them); returns the moves."""
    client_id = f"backbone-{group}-offsets"
    partitions = await topic_partitions(kafka, topics, client_id=client_id)
    admin = AIOKafkaAdminClient(**client_options(kafka), client_id=client_id)
    await admin.start()
    try:
        await _require_idle(admin, group)
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
    finally:
        await admin.close()
    committed = {partition: meta.offset for partition, meta in offsets.items() if meta.offset >= 0}
    if not committed:
        report(f"group {group} has committed no offset on {', '.join(topics)}: nothing to rewind")
        return []
    consumer = AIOKafkaConsumer(**client_options(kafka), client_id=client_id, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        at = int(moment.timestamp() * 1000)
        found = await consumer.offsets_for_times(dict.fromkeys(committed, at))
        ends = await consumer.end_offsets(list(committed))
        moves = rewind_moves(committed, {tp: hit.offset if hit else None for tp, hit in found.items()}, ends)
        for move in moves:
            where = f"{move.partition.topic}[{move.partition.partition}]"
            report(f"{where}: {move.committed} → {move.to} ({move.again:,} again)")
        if moves and not dry_run:
            consumer.assign([move.partition for move in moves])  # assigned, never joined: the group stays empty
            await consumer.commit({move.partition: move.to for move in moves})
    finally:
        await consumer.stop()
    return moves


async def _require_idle(admin: AIOKafkaAdminClient, group: str) -> None:
    for response in await admin.describe_consumer_groups([group]):
        for described in response.to_object()["groups"]:
            if described["group"] != group or described["error_code"] == GroupIdNotFound.errno:
                continue  # no such group (yet): it has no members
            if described["error_code"]:
                raise for_code(described["error_code"])(f"describing consumer group {group}")
            if described["state"] not in IDLE_STATES:
                raise OperatorError(
                    f"consumer group {group} is {described['state']} with {len(described['members'])} members: "
                    "stop the service first (docs/runbook.md, Restore PostgreSQL, step 1), then rewind"
                )
