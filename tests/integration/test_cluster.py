"""The backbone's guarantees on three Kafka nodes, with nodes SIGKILLed under load.

A cluster of its own (a temporary home, ports 19192-19197, so neither the single broker of `backbone up`
nor a cluster of `backbone cluster up` is touched) runs for the module and is stopped at its end. The
database is the `tests` database of the shared PostgreSQL, each test in a schema of its own.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer

from backbone.delivery import Subscription
from backbone.kafka import create_producer, place_group_at_end
from backbone.settings import KafkaSettings
from devtools.local.cluster import LocalKafkaCluster
from devtools.local.paths import LocalPaths
from devtools.local.postgres import LocalPostgres, LocalSecrets
from devtools.local.replication import ensure_replicated_topics, leaders, partition_states, under_replicated
from schemas.events import ConsultationReceived
from schemas.topics import ALL_TOPICS, INTAKE_EVENTS, dead_letter_topic
from tests.integration.cluster_kit import TRACER, busiest_leader, delivery, own_schema, relaying, write_events
from tests.integration.kafka_tools import eventually
from tests.integration.kit import FAST_DELIVERY, consuming, record_effect

pytestmark = pytest.mark.cluster

TOPIC = INTAKE_EVENTS.name
FIRST_PORT = 19192  # not 19092: leaves the ports of `backbone cluster up` free
REPLICATED = [spec.name for spec in ALL_TOPICS] + ["__consumer_offsets"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalKafkaCluster]:
    cluster = LocalKafkaCluster(tmp_path_factory.mktemp("kafka-cluster"), first_port=FIRST_PORT)
    try:
        began = time.monotonic()
        cluster.start()
        asyncio.run(ensure_replicated_topics(cluster.bootstrap_servers))
        print(f"\ncluster: three nodes formatted, started and the topics created in {time.monotonic() - began:.1f}s")
        yield cluster
    finally:
        for line in cluster.stop():  # also after a failed start: whatever did start is stopped
            print(line)


# `bootstrap`, `pool` and `producer` replace the integration conftest's fixtures of the same names in this
# module: those start the single-node stack (`backbone up --infra`), which these tests leave alone.


@pytest.fixture
async def bootstrap(cluster: LocalKafkaCluster) -> str:
    """The cluster whole before each test (a test before may have left a node down): every node up and
    every partition fully replicated."""
    await asyncio.to_thread(cluster.start)
    await eventually(lambda: fully_replicated(cluster.bootstrap_servers), within=60, every=0.5)
    return cluster.bootstrap_servers


@pytest.fixture(scope="module")
def tests_dsn() -> str:
    paths = LocalPaths.default()
    postgres = LocalPostgres(paths)
    postgres.start()  # idempotent: the shared server is usually running already
    return postgres.dsn("tests", LocalSecrets.load_or_create(paths.secrets))


@pytest.fixture
async def pool(tests_dsn: str) -> AsyncIterator[asyncpg.Pool]:
    async with own_schema(tests_dsn) as pool:
        yield pool


@pytest.fixture
async def producer(bootstrap: str) -> AsyncIterator[AIOKafkaProducer]:
    producer = create_producer(KafkaSettings(bootstrap_servers=bootstrap), client_id="cluster-tests")
    await producer.start()
    yield producer
    await producer.stop()


@pytest.fixture
async def subscription(bootstrap: str, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> Subscription:
    """A consumer of its own that records one effect per applied event, from the topic's current end."""
    name = f"cluster-test-{uuid.uuid4().hex[:12]}"
    await ensure_replicated_topics(bootstrap, [dead_letter_topic(name)])
    await place_group_at_end(bootstrap, name, [TOPIC])
    sub = Subscription(name, [TOPIC], pool=pool, producer=producer, settings=FAST_DELIVERY, tracer=TRACER)
    sub.on(ConsultationReceived, record_effect)
    return sub


async def fully_replicated(bootstrap: str) -> bool:
    return not under_replicated(await partition_states(bootstrap, REPLICATED))


async def test_one_broker_killed_under_load_loses_no_acknowledged_event_and_applies_each_once(
    cluster: LocalKafkaCluster,
    bootstrap: str,
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    subscription: Subscription,
) -> None:
    events = 2000
    async with consuming(subscription, bootstrap), relaying(pool, producer) as relay:
        writer = asyncio.create_task(write_events(pool, events))
        await eventually(lambda: relay.published >= events // 2, within=60)
        victim = busiest_leader(await partition_states(bootstrap, [TOPIC]))
        killed = time.monotonic()
        print(f"\n{await asyncio.to_thread(cluster.kill_node, victim)} with {relay.published} of {events} sent")
        await asyncio.wait_for(writer, 60)
        await eventually(lambda: _complete(pool), within=90, every=0.25)
        print(f"all {events} sent and applied {time.monotonic() - killed:.1f}s after the kill")
    done = await delivery(pool)
    assert done.sent == events  # the relay carried on by itself, and marked every row
    assert done.applied == done.events_applied == events  # every event applied, none twice
    assert subscription.stats.dead_lettered == 0
    print(f"transport duplicates the inbox absorbed: {subscription.stats.duplicates}")


async def test_a_killed_broker_started_again_catches_up_and_rejoins_every_in_sync_set(
    cluster: LocalKafkaCluster, bootstrap: str, pool: asyncpg.Pool, producer: AIOKafkaProducer
) -> None:
    victim = busiest_leader(await partition_states(bootstrap, [TOPIC]))
    await asyncio.to_thread(cluster.kill_node, victim)
    async with relaying(pool, producer) as relay:  # what it misses while down, it must copy when back
        await write_events(pool, 1000, per_transaction=50, pause=0)
        await eventually(lambda: relay.published >= 1000, within=60)
    lagging = under_replicated(await partition_states(bootstrap, REPLICATED))
    assert lagging and all(victim not in state.in_sync for state in lagging)

    began = time.monotonic()
    await asyncio.to_thread(cluster.start_node, victim)
    started = time.monotonic() - began
    await eventually(lambda: fully_replicated(bootstrap), within=60, every=0.25)
    caught_up = time.monotonic() - began
    states = await partition_states(bootstrap, REPLICATED)
    assert all(len(state.in_sync) == 3 and victim in state.in_sync for state in states)
    print(f"\nnode {victim}: started in {started:.1f}s, back in all {len(states)} in-sync sets {caught_up:.1f}s after")


async def test_two_brokers_down_the_outbox_keeps_the_events_until_the_cluster_heals(
    cluster: LocalKafkaCluster,
    bootstrap: str,
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    subscription: Subscription,
    caplog: pytest.LogCaptureFixture,
) -> None:
    events, outage = 300, 8.0
    patient = FAST_DELIVERY.model_copy(update={"relay_stall_warning_seconds": 2.0})
    async with consuming(subscription, bootstrap), relaying(pool, producer, patient) as relay:
        # The two nodes that lead most partitions, so that most sends meet a dead leader at once; killed
        # together, before the controllers could move anything: one node alone is no quorum.
        led = leaders(await partition_states(bootstrap, [TOPIC]))
        survivor, *lost = sorted(cluster.nodes, key=lambda node: (led[node], node))
        for node in lost:
            await asyncio.to_thread(cluster.kill_node, node)
        caplog.set_level(logging.WARNING, logger="aiokafka")
        caplog.set_level(logging.WARNING, logger="backbone.outbox")
        await write_events(pool, events)
        # With acks=all and min.insync.replicas=2, no write can be acknowledged by one node: nothing is sent.
        until = time.monotonic() + outage
        while time.monotonic() < until:
            assert (await delivery(pool)).sent == 0
            await asyncio.sleep(0.5)
        assert relay.published == 0
        refused = [r.getMessage() for r in caplog.records if r.name.startswith("aiokafka.producer")]
        assert any("error produce response" in message for message in refused), refused[:5]
        stalled = [r.getMessage() for r in caplog.records if r.name == "backbone.outbox"]
        assert any("has not acknowledged" in message for message in stalled)  # the operator is told

        healing = time.monotonic()
        await asyncio.to_thread(cluster.start)
        healed = time.monotonic() - healing
        await eventually(lambda: _complete(pool), within=90, every=0.25)
        delivered = time.monotonic() - healing
    done = await delivery(pool)
    assert done.sent == events
    assert done.applied == done.events_applied == events
    print(
        f"\nnode {survivor} alone for {outage:.0f}s: {events} events held in the outbox; nodes {lost} back in"
        f" {healed:.1f}s, all sent and applied {delivered:.1f}s after the restart began"
    )


async def _complete(pool: asyncpg.Pool) -> bool:
    return (await delivery(pool)).complete
