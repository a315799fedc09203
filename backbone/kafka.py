"""Kafka clients, configured for the backbone's guarantees and the cluster's security, and explicit topic creation.

Every client a service makes (producer, FastStream's broker, admin and lag clients, the operators' commands)
connects with `client_options`, so TLS and SASL are configured in exactly one place.
"""

from __future__ import annotations

import logging
import ssl
from collections.abc import Iterable, Sequence
from itertools import chain
from pathlib import Path
from typing import Any, Required, TypedDict

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context
from aiokafka.structs import ConsumerRecord
from faststream.kafka import KafkaBroker
from faststream.kafka.subscriber.usecase import BatchSubscriber
from faststream.security import BaseSecurity, SASLPlaintext, SASLScram256, SASLScram512

from backbone.settings import KafkaSettings
from schemas.topics import TopicSpec

_ENV = "BACKBONE_KAFKA__"
_SASL_SECURITY = {"SCRAM-SHA-512": SASLScram512, "SCRAM-SHA-256": SASLScram256, "PLAIN": SASLPlaintext}


class KafkaSettingsError(ValueError):
    """The Kafka client settings cannot work as given; the message names the variables to set."""


class ClientOptions(TypedDict, total=False):
    """aiokafka's connection keyword arguments, common to its producer, consumer and admin client."""

    bootstrap_servers: Required[list[str]]
    security_protocol: Required[str]
    ssl_context: ssl.SSLContext
    sasl_mechanism: str
    sasl_plain_username: str
    sasl_plain_password: str


def client_options(settings: KafkaSettings) -> ClientOptions:
    """How to reach and authenticate to the brokers; raises KafkaSettingsError naming what to set.

    Settings that would be silently ignored (TLS files or SASL credentials with a protocol that does not
    use them) are refused too: a client that quietly connects without TLS or without its principal is a
    worse failure than one that does not start.
    """
    if not settings.servers:
        raise KafkaSettingsError(f"{_ENV}BOOTSTRAP_SERVERS is empty: set it to the brokers, host:port[,host:port…]")
    protocol = settings.security_protocol
    options: ClientOptions = {"bootstrap_servers": settings.servers, "security_protocol": protocol}
    if protocol in ("SSL", "SASL_SSL"):
        options["ssl_context"] = _ssl_context(settings)
    elif _tls_files(settings):
        names = " and ".join(f"{_ENV}{name}" for name in _tls_files(settings))
        raise KafkaSettingsError(
            f"{names} set, but {_ENV}SECURITY_PROTOCOL={protocol} does not use TLS: "
            "set the protocol to SSL or SASL_SSL, or unset the files"
        )
    if protocol in ("SASL_PLAINTEXT", "SASL_SSL"):
        username = settings.sasl_username or ""
        password = settings.sasl_password.get_secret_value() if settings.sasl_password else ""
        missing = [
            f"{_ENV}{name}" for name, value in (("SASL_USERNAME", username), ("SASL_PASSWORD", password)) if not value
        ]
        if missing:
            raise KafkaSettingsError(
                f"{_ENV}SECURITY_PROTOCOL={protocol} needs the service's Kafka principal: set {' and '.join(missing)} "
                "(the user, e.g. svc-referral, and its password; deploy/README.md, Client settings)"
            )
        options |= {
            "sasl_mechanism": settings.sasl_mechanism,
            "sasl_plain_username": username,
            "sasl_plain_password": password,
        }
    elif settings.sasl_username or settings.sasl_password:
        raise KafkaSettingsError(
            f"{_ENV}SASL_USERNAME/SASL_PASSWORD set, but {_ENV}SECURITY_PROTOCOL={protocol} does not authenticate: "
            "set the protocol to SASL_SSL (or SASL_PLAINTEXT), or unset the credentials"
        )
    return options


def broker_security(settings: KafkaSettings) -> BaseSecurity | None:
    """The same settings as FastStream's security object, from which FastStream builds aiokafka's options."""
    options = client_options(settings)
    protocol = options["security_protocol"]
    if protocol == "PLAINTEXT":
        return None
    context = options.get("ssl_context")
    if protocol == "SSL":
        return BaseSecurity(ssl_context=context, use_ssl=True)
    security = _SASL_SECURITY[options["sasl_mechanism"]]
    return security(
        options["sasl_plain_username"],
        options["sasl_plain_password"],
        ssl_context=context,
        use_ssl=protocol == "SASL_SSL",
    )


def _tls_files(settings: KafkaSettings) -> dict[str, Path]:
    named = {
        "SSL_CAFILE": settings.ssl_cafile,
        "SSL_CERTFILE": settings.ssl_certfile,
        "SSL_KEYFILE": settings.ssl_keyfile,
    }
    return {name: path for name, path in named.items() if path is not None}


def _ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    files = _tls_files(settings)
    for name, path in files.items():
        if not path.is_file():
            raise KafkaSettingsError(f"{_ENV}{name}={path}: no such file (is the secret mounted?)")
    if settings.ssl_keyfile and not settings.ssl_certfile:
        raise KafkaSettingsError(f"{_ENV}SSL_KEYFILE is set without {_ENV}SSL_CERTFILE: set both for mTLS, or neither")
    try:
        # Without a CA file the system's CAs are trusted; the broker's host name is always checked.
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.ssl_cafile, certfile=settings.ssl_certfile, keyfile=settings.ssl_keyfile
        )
    except (OSError, ValueError) as error:  # ssl.SSLError is an OSError
        names = ", ".join(f"{_ENV}{name}" for name in files) or "the system's CA store"
        raise KafkaSettingsError(f"cannot load the TLS files of {names}: {error}") from error
    return context


def create_producer(settings: KafkaSettings, client_id: str) -> AIOKafkaProducer:
    """The producer of the outbox relay and the dead-letter path.

    aiokafka defaults to acks=1 without idempotence; the backbone needs acks=all and an idempotent
    producer so that a retried send neither loses nor doubles a record or reorders a partition.
    """
    return AIOKafkaProducer(
        **client_options(settings),
        client_id=client_id,
        acks="all",
        enable_idempotence=True,
        linger_ms=settings.linger_ms,
        request_timeout_ms=30_000,
    )


def create_broker(settings: KafkaSettings, client_id: str) -> KafkaBroker:
    """FastStream's broker, which runs the subscribers. Topics are ours to create, never its."""
    return KafkaBroker(
        settings.servers,
        security=broker_security(settings),
        client_id=client_id,
        allow_auto_create_topics=False,
        acks="all",
        enable_idempotence=True,
        # FastStream's "Received" and "Processed" for every consumed message are DEBUG lines, through the
        # service's own handler (backbone.logs); the kit logs what happened to a record, not that it came.
        logger=logging.getLogger("backbone.consumer"),
        log_level=logging.DEBUG,
        # No dependency injection: the kit's one handler takes the batch as it is (backbone.delivery). With it,
        # resolving the handler's parameters sent a job to a worker thread for every batch, ~100 µs of CPU each.
        apply_types=False,
    )


class PromptBatchSubscriber(BatchSubscriber):
    """FastStream's batch subscriber without its sleep after a poll that found nothing.

    FastStream sleeps `batch_timeout_ms` after an empty poll, and a record fetched meanwhile waits the sleep out:
    on every hop of a consultation's way, for up to the poll's timeout. aiokafka's `getmany` already waits up to
    that timeout and returns as soon as a fetch brings records, so without the sleep a record is taken when it
    arrives, and the timeout only says how often an idle consumer wakes. Only `get_msg` differs; the rest, and the
    errors `getmany` raises, stay FastStream's (tests/unit/kit/test_prompt_subscriber.py pins it on the version
    installed).
    """

    __slots__ = ()

    async def get_msg(self, consumer: Any) -> tuple[ConsumerRecord[bytes, bytes], ...]:
        batches = await consumer.getmany(timeout_ms=self.batch_timeout_ms, max_records=self.max_records)
        return tuple(chain.from_iterable(batches.values()))


def prompt(subscriber: Any) -> BatchSubscriber:
    """The batch subscriber FastStream made, taking records as they arrive (`PromptBatchSubscriber`)."""
    if not isinstance(subscriber, BatchSubscriber):
        raise TypeError(f"a batch subscriber was expected, FastStream made {type(subscriber).__name__}")
    subscriber.__class__ = PromptBatchSubscriber  # the same slots: only the method differs
    return subscriber


async def ensure_topics(
    kafka: KafkaSettings | str, specs: Iterable[TopicSpec], *, replication_factor: int = 1
) -> list[str]:
    """Create the topics that do not exist yet; returns the names created.

    `kafka` is the settings of a principal that may create topics, or the bootstrap servers of a local
    PLAINTEXT broker.
    """
    settings = KafkaSettings(bootstrap_servers=kafka) if isinstance(kafka, str) else kafka
    admin = AIOKafkaAdminClient(**client_options(settings))
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


async def topic_partitions(settings: KafkaSettings, topics: Sequence[str], *, client_id: str) -> list[TopicPartition]:
    """The partitions of `topics`, in order; KafkaSettingsError naming a topic that is not on the brokers (or
    that this principal may not describe), which usually means the wrong cluster or the wrong principal."""
    admin = AIOKafkaAdminClient(**client_options(settings), client_id=client_id)
    await admin.start()
    try:
        described = await admin.describe_topics(list(topics))
    finally:
        await admin.close()
    found = {t["topic"]: [TopicPartition(t["topic"], p["partition"]) for p in t["partitions"]] for t in described}
    missing = [topic for topic in topics if not found.get(topic)]
    if missing:
        raise KafkaSettingsError(
            f"{', '.join(missing)}: not on the brokers at {settings.bootstrap_servers}, or principal "
            f"{settings.sasl_username or '(none)'} may not describe it"
        )
    return sorted(partition for topic in topics for partition in found[topic])


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
