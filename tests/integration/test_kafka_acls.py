"""The ACL model against a real secured broker: what backbone/acl.py does not allow, Kafka refuses.

One broker for the module (`SecureKafka`: SASL/SCRAM-SHA-512, StandardAuthorizer, deny by default), on
ports and in a home of its own, never the development broker. Every client step is bounded (request
timeouts and `asyncio.timeout`), so a denial that turned into a hang fails fast instead.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.errors import (
    GroupAuthorizationFailedError,
    KafkaConnectionError,
    SaslAuthenticationFailed,
    TopicAuthorizationFailedError,
)
from aiokafka.protocol.metadata import MetadataRequest
from aiokafka.structs import RecordMetadata
from pydantic import SecretStr

from backbone.kafka import client_options, create_broker, create_producer
from backbone.settings import KafkaSettings
from devtools.local.scram import ScramUsers
from devtools.local.secure_kafka import SecureKafka
from schemas.topics import (
    ALL_TOPICS,
    INTAKE_EVENTS,
    INTAKE_SUBMISSIONS,
    MEETINGS_EVENTS,
    REFERRAL_EVENTS,
    REFERRAL_RESPONSES,
)
from tests.integration.kafka_tools import Record

AGENCY = "agency-chiku-fukushi-katase"
OTHER_AGENCY = "agency-chiku-fukushi-kugenuma"
INGRESS = (INTAKE_SUBMISSIONS.name, REFERRAL_RESPONSES.name)
SERVICE_TOPICS = [spec.name for spec in ALL_TOPICS if spec.name not in INGRESS]
PARTITIONS = {spec.name: spec.partitions for spec in ALL_TOPICS}
BOUND = 20.0  # seconds any one client step may take; denials come back in milliseconds
REQUEST_TIMEOUT_MS = 5_000


def _free_port_pair(first: int = 29100, last: int = 29198) -> int:
    """Two free neighbouring ports for the listener and the controller, away from every other broker here."""
    for port in range(first, last, 2):
        try:
            with socket.socket() as one, socket.socket() as two:
                one.bind(("127.0.0.1", port))
                two.bind(("127.0.0.1", port + 1))
        except OSError:
            continue
        return port
    raise RuntimeError(f"no two free neighbouring ports in {first}–{last + 1}; stop what holds them")


@pytest.fixture(scope="module")
def secured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecureKafka]:
    port = _free_port_pair()
    broker = SecureKafka(tmp_path_factory.mktemp("secure-kafka"), port=port, controller_port=port + 1)
    try:
        broker.up(print)
        yield broker
    finally:
        broker.down(print)


@asynccontextmanager
async def producing(settings: KafkaSettings) -> AsyncIterator[AIOKafkaProducer]:
    producer = AIOKafkaProducer(
        **client_options(settings), acks="all", enable_idempotence=True, request_timeout_ms=REQUEST_TIMEOUT_MS
    )
    async with asyncio.timeout(BOUND):
        await producer.start()
    try:
        yield producer
    finally:
        await producer.stop()


async def write(settings: KafkaSettings, topic: str, key: bytes) -> RecordMetadata:
    async with producing(settings) as producer, asyncio.timeout(BOUND):
        metadata: RecordMetadata = await producer.send_and_wait(topic, b"{}", key=key)
        return metadata


@asynccontextmanager
async def consuming(settings: KafkaSettings, group: str | None = None) -> AsyncIterator[AIOKafkaConsumer]:
    consumer = AIOKafkaConsumer(
        **client_options(settings),
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        request_timeout_ms=REQUEST_TIMEOUT_MS,
    )
    async with asyncio.timeout(BOUND):
        await consumer.start()
    try:
        yield consumer
    finally:
        await consumer.stop()


async def read_in_group(settings: KafkaSettings, topic: str, group: str, *keys: bytes) -> dict[bytes, Record]:
    """Consume `topic` as member of `group` until the records with `keys` have come, and commit past them."""
    found: dict[bytes, Record] = {}
    async with consuming(settings, group) as consumer, asyncio.timeout(BOUND):
        consumer.subscribe([topic])
        while len(found) < len(keys):
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found |= {record.key: record for record in records if record.key in keys}
        await consumer.commit()
    return found


async def fetch(settings: KafkaSettings, topic: str, *, group: str | None = None) -> None:
    """Fetch `topic` from its start (in `group` when given, else by assignment), bounded."""
    async with consuming(settings, group) as consumer, asyncio.timeout(BOUND):
        if group:
            consumer.subscribe([topic])
        else:
            consumer.assign([TopicPartition(topic, partition) for partition in range(PARTITIONS[topic])])
        for _ in range(10):
            await consumer.getmany(timeout_ms=500)


async def describe_error(settings: KafkaSettings, topic: str) -> int:
    """The error code the broker gives this principal for the topic's metadata (0: it may see the topic)."""
    admin = AIOKafkaAdminClient(**client_options(settings), request_timeout_ms=REQUEST_TIMEOUT_MS)
    async with asyncio.timeout(BOUND):
        await admin.start()
        try:
            [described] = await admin.describe_topics([topic])
        finally:
            await admin.close()
    code: int = described["error_code"]
    return code


def new_key() -> bytes:
    return uuid.uuid4().bytes


async def test_a_service_writes_its_own_topic_and_reads_what_it_consumes_in_its_own_group(
    secured: SecureKafka,
) -> None:
    consultation, referral = new_key(), new_key()
    await write(secured.settings_for("svc-intake"), INTAKE_EVENTS.name, consultation)
    await write(secured.settings_for("svc-referral"), REFERRAL_EVENTS.name, referral)

    read = await read_in_group(secured.settings_for("svc-referral"), INTAKE_EVENTS.name, "referral", consultation)
    assert read[consultation].topic == INTAKE_EVENTS.name
    read = await read_in_group(secured.settings_for("svc-meetings"), REFERRAL_EVENTS.name, "meetings", referral)
    assert read[referral].topic == REFERRAL_EVENTS.name


async def test_an_agency_writes_the_ingress_but_no_services_topic(secured: SecureKafka) -> None:
    agency = secured.settings_for(AGENCY)
    for topic in INGRESS:
        assert (await write(agency, topic, new_key())).topic == topic

    with pytest.raises(TopicAuthorizationFailedError):
        await write(agency, REFERRAL_EVENTS.name, new_key())
    for topic in SERVICE_TOPICS:  # events and dead letters alike
        with pytest.raises(TopicAuthorizationFailedError):
            await write(agency, topic, new_key())


async def test_an_agency_cannot_read_other_agencies_records(secured: SecureKafka) -> None:
    submission = new_key()
    await write(secured.settings_for(OTHER_AGENCY), INTAKE_SUBMISSIONS.name, submission)
    await write(secured.settings_for(OTHER_AGENCY), REFERRAL_RESPONSES.name, new_key())
    agency = secured.settings_for(AGENCY)

    # The ingress topics hold every agency's records: an agency may write them, never read them.
    for topic in INGRESS:
        with pytest.raises(TopicAuthorizationFailedError):
            await fetch(agency, topic)
    # Nor through a service's consumer group.
    with pytest.raises(GroupAuthorizationFailedError):
        await fetch(agency, INTAKE_SUBMISSIONS.name, group="intake")
    # A service's topic is hidden altogether: the broker will not even say where its partitions are.
    for topic in SERVICE_TOPICS:
        assert await describe_error(agency, topic) == TopicAuthorizationFailedError.errno, topic

    # The record was there all along, for the service that consumes it.
    read = await read_in_group(secured.settings_for("svc-intake"), INTAKE_SUBMISSIONS.name, "intake", submission)
    assert read[submission].topic == INTAKE_SUBMISSIONS.name


async def test_a_service_cannot_write_another_services_topic_or_use_its_group(secured: SecureKafka) -> None:
    notify = secured.settings_for("svc-notify")
    with pytest.raises(TopicAuthorizationFailedError):
        await write(notify, INTAKE_EVENTS.name, new_key())
    with pytest.raises(TopicAuthorizationFailedError):
        await write(notify, MEETINGS_EVENTS.name, new_key())

    # notify reads referral.events.v1, but as group `notify`: `referral`'s group (and its offsets) is not its own.
    with pytest.raises(GroupAuthorizationFailedError):
        await fetch(notify, REFERRAL_EVENTS.name, group="referral")
    async with consuming(notify, "notify") as consumer, asyncio.timeout(BOUND):
        consumer.subscribe([REFERRAL_EVENTS.name])
        while not consumer.assignment():
            await consumer.getmany(timeout_ms=200)


async def test_a_wrong_password_fails_authentication(secured: SecureKafka) -> None:
    async with asyncio.timeout(BOUND):
        with pytest.raises(SaslAuthenticationFailed):
            await create_conn(
                secured.host,
                secured.port,
                security_protocol="SASL_PLAINTEXT",
                sasl_mechanism="SCRAM-SHA-512",
                sasl_plain_username="svc-referral",
                sasl_plain_password="not-its-password",
                request_timeout_ms=REQUEST_TIMEOUT_MS,
            )
    impostor = secured.settings_for("svc-referral").model_copy(update={"sasl_password": SecretStr("guessed")})
    with pytest.raises(KafkaConnectionError):  # aiokafka reports the refused handshake as "unable to bootstrap"
        await write(impostor, REFERRAL_EVENTS.name, new_key())


async def test_a_client_without_credentials_is_cut_off_at_its_first_request(secured: SecureKafka) -> None:
    async with asyncio.timeout(BOUND):
        connection = await create_conn(secured.host, secured.port, request_timeout_ms=REQUEST_TIMEOUT_MS)
        try:
            with pytest.raises(KafkaConnectionError):  # the broker closes the connection: no SASL handshake
                await connection.send(MetadataRequest([]))
        finally:
            connection.close()
    with pytest.raises(KafkaConnectionError):
        await write(KafkaSettings(bootstrap_servers=secured.bootstrap_servers), INTAKE_SUBMISSIONS.name, new_key())


async def test_the_kits_clients_run_on_scram_settings(secured: SecureKafka) -> None:
    """The services' own client factories, given the settings a deployment sets as BACKBONE_KAFKA__*."""
    password = ScramUsers.load(secured.credentials_file).passwords["svc-referral"]
    settings = KafkaSettings(
        bootstrap_servers=secured.bootstrap_servers,
        security_protocol="SASL_PLAINTEXT",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username="svc-referral",
        sasl_password=SecretStr(password),
    )
    relayed, published = new_key(), new_key()
    producer = create_producer(settings, client_id="referral-relay")
    async with asyncio.timeout(BOUND):
        await producer.start()
        try:
            sent = await producer.send_and_wait(REFERRAL_EVENTS.name, b"{}", key=relayed)
        finally:
            await producer.stop()
    broker = create_broker(settings, client_id="referral")
    async with asyncio.timeout(BOUND):
        await broker.start()
        try:
            await broker.publish(b"{}", topic=REFERRAL_EVENTS.name, key=published)
            with pytest.raises(TopicAuthorizationFailedError):
                await broker.publish(b"{}", topic=INTAKE_EVENTS.name, key=new_key())
        finally:
            await broker.stop()

    # audit records every topic: it reads both back.
    read = await read_in_group(secured.settings_for("svc-audit"), REFERRAL_EVENTS.name, "audit", relayed, published)
    assert (read[relayed].partition, read[relayed].offset) == (sent.partition, sent.offset)
    assert read.keys() == {relayed, published}
