"""Kafka clients, configured for the backbone's guarantees, and explicit topic creation."""

from __future__ import annotations

from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from faststream.kafka import KafkaBroker

from backbone.settings import KafkaSettings
from schemas.topics import TopicSpec


def create_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """The producer of the outbox relay and the dead-letter path.

    aiokafka defaults to acks=1 without idempotence; the backbone needs acks=all and an idempotent
    producer so that a retried send neither loses nor doubles a record or reorders a partition.
    """
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap_servers,
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=5,
        request_timeout_ms=30_000,
    )


def create_broker(settings: KafkaSettings, client_id: str) -> KafkaBroker:
    """FastStream's broker, which runs the subscribers. Topics are ours to create, never its."""
    return KafkaBroker(
        server_list(settings.bootstrap_servers),
        client_id=client_id,
        allow_auto_create_topics=False,
        acks="all",
        enable_idempotence=True,
    )


def server_list(bootstrap_servers: str) -> list[str]:
    """ "host:port,host:port" as a list. FastStream wraps a string in a list as one server, and aiokafka
    splits at commas only in a string: a cluster's bootstrap list must reach FastStream already split."""
    return [server.strip() for server in bootstrap_servers.split(",") if server.strip()]


async def ensure_topics(
    bootstrap_servers: str, specs: Iterable[TopicSpec], *, replication_factor: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [spec for spec in specs if spec.name not in existing]
        for spec in missing:
            topic = NewTopic(spec.name, spec.partitions, replication_factor, topic_configs=dict(spec.configs))
            try:
                await admin.create_topics([topic])
            except TopicAlreadyExistsError:  # created meanwhile by another instance
                continue
        return [spec.name for spec in missing]
    finally:
        await admin.close()


def decode_headers(raw: Iterable[tuple[str, bytes]]) -> dict[str, str]:
    """Header values as text; raises UnicodeDecodeError for a value that is not UTF-8."""
    return {name: value.decode("utf-8") for name, value in raw}


def encode_headers(headers: dict[str, str]) -> list[tuple[str, bytes]]:
    return [(name, value.encode("utf-8")) for name, value in headers.items()]


async def place_group_at_end(bootstrap_servers: str, group: str, topics: list[str]) -> None:
    """Commit the topics' current end offsets for a new consumer group, so it consumes only what comes next."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        described = await admin.describe_topics(topics)
    finally:
        await admin.close()
    partitions = [TopicPartition(t["topic"], p["partition"]) for t in described for p in t["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, group_id=group, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.commit(dict(await consumer.end_offsets(partitions)))
    finally:
        await consumer.stop()
