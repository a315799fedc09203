"""Integration fixtures: the real Kafka broker and PostgreSQL server of `backbone up --infra`."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaProducer

from backbone import directory
from backbone.db import create_pool, migrate
from backbone.kafka import create_producer
from backbone.settings import DatabaseSettings, KafkaSettings
from devtools.local.keycloak import LocalKeycloak
from devtools.local.operators import restore_directory_defaults
from devtools.local.paths import LocalPaths
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from tests.integration.receivers import SmtpCatcher, WebhookReceiver
from tests.integration.services import RunningServices, running
from tests.integration.stores import with_tables

KIT_MIGRATIONS = Path(__file__).parent / "kit_migrations"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "/integration/" in str(item.path):
            item.add_marker(pytest.mark.integration)


@pytest.fixture(scope="session")
def stack() -> LocalStack:
    stack = LocalStack.default()
    stack.up_infrastructure(print)  # idempotent: starts only what is not running, adds missing databases
    return stack


@pytest.fixture(scope="session")
def bootstrap(stack: LocalStack) -> str:
    return stack.kafka.bootstrap_servers


@pytest.fixture(scope="session")
def tests_database(stack: LocalStack) -> DatabaseSettings:
    dsn = stack.postgres.dsn("tests", LocalSecrets.load_or_create(stack.paths.secrets))
    return DatabaseSettings(dsn=dsn)


@pytest.fixture
async def pool(tests_database: DatabaseSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(tests_database)
    await migrate(pool, "kit-tests", KIT_MIGRATIONS)
    yield pool
    await pool.close()


@pytest.fixture
async def referral_tables(pool: asyncpg.Pool) -> asyncpg.Pool:
    """The referral service's tables in the tests database, where no running service fires timers."""
    return await with_tables(pool, "referral")


@pytest.fixture
async def notify_tables(pool: asyncpg.Pool) -> asyncpg.Pool:
    """The notify service's tables in the tests database, where no running dispatcher sends."""
    return await with_tables(pool, "notify")


@pytest.fixture
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = create_producer(KafkaSettings(bootstrap_servers=bootstrap), client_id="backbone-tests")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
def consumer_name() -> str:
    """A consumer group of its own for each test, so tests never share offsets."""
    return f"test-{uuid.uuid4().hex[:12]}"


@pytest.fixture(scope="session")
def smtp() -> Iterator[SmtpCatcher]:
    catcher = SmtpCatcher()
    catcher.start()
    yield catcher
    catcher.stop()


@pytest.fixture(scope="session")
def webhooks() -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture(scope="session")
async def services(
    stack: LocalStack, smtp: SmtpCatcher, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningServices]:
    # Service processes left by `backbone up` would share the consumer groups and the outbox relays.
    stack.down_services(print)
    checkpoints = tmp_path_factory.mktemp("audit") / "checkpoints.jsonl"
    async with running(stack, smtp_port=smtp.port, checkpoints=checkpoints) as services:
        # The services' databases outlive a run: start from the directory's capacities and rosters.
        agencies = directory.load().agencies.values()
        tokens = {agency.id: await services.token(agency.id, agency.type) for agency in agencies}
        await restore_directory_defaults(services.client, tokens)
        yield services


# The local identity provider (Keycloak) of `backbone up --infra`, and what staff sign in with.
@pytest.fixture(scope="session")
def keycloak() -> Iterator[LocalKeycloak]:
    """The Keycloak of `backbone up` when it runs; otherwise started here and stopped afterwards."""
    keycloak = LocalKeycloak(LocalPaths.default())
    started_here = keycloak.process.pid() is None
    if started_here:
        print(keycloak.start())
    yield keycloak
    if started_here:
        keycloak.stop()


@pytest.fixture(scope="session")
def discovery(keycloak: LocalKeycloak) -> dict[str, Any]:
    response = httpx.get(keycloak.discovery_url, timeout=10)
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


@pytest.fixture(scope="session")
def passwords(keycloak: LocalKeycloak) -> dict[str, str]:
    return LocalSecrets.load_or_create(keycloak.paths.secrets).demo_staff_passwords
