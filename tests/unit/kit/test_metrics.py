"""Metrics: what each service exposes on /metrics, how consumption is counted, how lag is reckoned."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from aiokafka import TopicPartition
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata
from opentelemetry import trace
from prometheus_client import CONTENT_TYPE_LATEST
from prometheus_client.parser import text_string_to_metric_families

from backbone.db import Connection
from backbone.delivery import Subscription
from backbone.kafka import encode_headers
from backbone.lag import lag_by_partition, partition_lag
from backbone.metrics import ServiceMetrics, keep_refreshed
from backbone.records import PoisonReason, PoisonRecordError
from backbone.settings import DeliverySettings
from devtools.documents.asyncapi import placeholder_app
from schemas.envelope import Envelope
from schemas.events import ConsentWithdrawn, ConsultationReceived, Event
from services.notify.metrics import NotificationMetrics

INGRESS = "agency.submissions.v1"
EVENTS = "intake.events.v1"
WITHDRAWAL = {
    "case_id": str(uuid.uuid4()),
    "consent_id": str(uuid.uuid4()),
    "person_id": str(uuid.uuid4()),
    "withdrawn_by": "ikiiki-katase",
    "withdrawn_at": "2026-12-01T09:00:00+09:00",
}
CONSULTATION = {
    "case_id": str(uuid.uuid4()),
    "consultation_id": str(uuid.uuid4()),
    "person_id": str(uuid.uuid4()),
    "receiving_agency": "csw-endo",
    "channel": "home-visit",
    "district": "endo",
    "domains": ["elderly"],
    "urgency": "normal",
    "received_at": "2026-11-30T09:00:00+09:00",
}


def samples(metrics: ServiceMetrics) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the rendered exposition, parsed back as Prometheus would read it."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(metrics.render().decode())
        for sample in family.samples
    }


def value(metrics: ServiceMetrics, name: str, **labels: str) -> float | None:
    return samples(metrics).get((name, frozenset(labels.items())))


# --- lag arithmetic -------------------------------------------------------------------------------------


def test_lag_is_the_log_end_minus_the_committed_offset() -> None:
    assert partition_lag(end=120, start=0, committed=100) == 20
    assert partition_lag(end=120, start=0, committed=120) == 0


def test_a_group_that_never_committed_lags_by_everything_still_in_the_log() -> None:
    assert partition_lag(end=120, start=30, committed=None) == 90
    assert partition_lag(end=120, start=30, committed=-1) == 90


def test_a_position_that_retention_deleted_counts_from_the_log_start() -> None:
    assert partition_lag(end=120, start=50, committed=10) == 70


def test_lag_is_never_negative() -> None:
    assert partition_lag(end=100, start=0, committed=105) == 0


def test_lag_by_partition_reads_kafkas_committed_offsets() -> None:
    a, b, c = (TopicPartition(EVENTS, n) for n in range(3))
    lag = lag_by_partition(
        ends={a: 10, b: 10, c: 10},
        starts={a: 0, b: 4, c: 0},
        committed={a: OffsetAndMetadata(7, ""), b: OffsetAndMetadata(-1, "")},
    )
    assert lag == {a: 3, b: 6, c: 10}


# --- the registry ---------------------------------------------------------------------------------------


def test_every_service_process_has_a_registry_of_its_own() -> None:
    one, other = ServiceMetrics(), ServiceMetrics()
    one.consumed(EVENTS, "applied", 0.002)
    assert value(one, "backbone_records_total", topic=EVENTS, outcome="applied") == 1
    assert value(other, "backbone_records_total", topic=EVENTS, outcome="applied") is None


def test_consumption_renders_as_counters_and_a_histogram_per_topic() -> None:
    metrics = ServiceMetrics()
    metrics.consumed(EVENTS, "applied", 0.003)
    metrics.consumed(EVENTS, "duplicate", 0.2)
    metrics.consumed(EVENTS, "ignored")
    assert value(metrics, "backbone_processing_seconds_count", topic=EVENTS) == 2
    assert value(metrics, "backbone_processing_seconds_bucket", topic=EVENTS, le="0.005") == 1
    assert value(metrics, "backbone_processing_seconds_sum", topic=EVENTS) == pytest.approx(0.203)
    for outcome in ("applied", "duplicate", "ignored"):
        assert value(metrics, "backbone_records_total", topic=EVENTS, outcome=outcome) == 1


def test_lag_series_follow_the_assignment() -> None:
    metrics = ServiceMetrics()
    metrics.show_lag({TopicPartition(EVENTS, 0): 5, TopicPartition(EVENTS, 1): 0})
    assert value(metrics, "backbone_consumer_lag", topic=EVENTS, partition="0") == 5
    assert value(metrics, "backbone_consumer_lag", topic=EVENTS, partition="1") == 0
    # After a rebalance this process holds partition 1 only: another instance now reports partition 0.
    metrics.show_lag({TopicPartition(EVENTS, 1): 2})
    assert value(metrics, "backbone_consumer_lag", topic=EVENTS, partition="0") is None
    assert value(metrics, "backbone_consumer_lag", topic=EVENTS, partition="1") == 2


def test_a_notification_delivery_is_timed_from_its_row_to_its_sending() -> None:
    metrics = ServiceMetrics()
    notifications = NotificationMetrics.on(metrics)
    planned = datetime(2026, 4, 1, 9, 0, tzinfo=UTC)
    notifications.delivered(created_at=planned, delivered_at=planned + timedelta(seconds=42))
    notifications.delivered(created_at=planned, delivered_at=planned - timedelta(seconds=1))  # clock skew
    assert value(metrics, "backbone_notification_delivery_seconds_count") == 2
    assert value(metrics, "backbone_notification_delivery_seconds_sum") == 42
    assert value(metrics, "backbone_notification_delivery_seconds_bucket", le="30.0") == 1


# --- the refresh loop -----------------------------------------------------------------------------------


class AnsweringDatabase:
    """A pool whose one connection answers the outbox query and the service's gauge queries."""

    def __init__(self, *, backlog: int, oldest_seconds: float, answers: dict[str, int]) -> None:
        self.outbox = {"backlog": backlog, "oldest_seconds": oldest_seconds}
        self.answers = answers

    def acquire(self) -> contextlib.nullcontext[AnsweringDatabase]:
        return contextlib.nullcontext(self)

    async def fetchrow(self, _: str) -> dict[str, float]:
        return self.outbox

    async def fetchval(self, query: str) -> int:
        return self.answers[query]


class Lag:
    def __init__(self, read: Callable[[Any], Awaitable[dict[TopicPartition, int]]]) -> None:
        self.read = read
        self.closed = False

    async def close(self) -> None:
        self.closed = True


async def refreshed(metrics: ServiceMetrics, database: AnsweringDatabase, lag: Lag, done: Callable[[], bool]) -> None:
    task = asyncio.create_task(
        keep_refreshed(metrics, database, lag, lambda: {TopicPartition(EVENTS, 0)}, every=0.01)  # type: ignore[arg-type]
    )
    try:
        for _ in range(500):
            if done():
                break
            await asyncio.sleep(0.01)
        else:
            raise AssertionError("the gauges were not refreshed within 5 s")
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def test_the_refresh_sets_the_outbox_the_services_own_and_the_lag_gauges() -> None:
    metrics = ServiceMetrics()
    metrics.gauge_from_query("backbone_referrals_overdue", "overdue", "SELECT 3")
    database = AnsweringDatabase(backlog=12, oldest_seconds=4.5, answers={"SELECT 3": 3})

    async def read(partitions: Any) -> dict[TopicPartition, int]:
        return dict.fromkeys(partitions, 9)

    lag = Lag(read)
    await refreshed(
        metrics, database, lag, lambda: value(metrics, "backbone_consumer_lag", topic=EVENTS, partition="0") == 9
    )
    assert value(metrics, "backbone_outbox_backlog") == 12
    assert value(metrics, "backbone_outbox_oldest_unsent_seconds") == 4.5
    assert value(metrics, "backbone_referrals_overdue") == 3
    assert lag.closed


async def test_kafka_being_down_does_not_freeze_the_database_gauges() -> None:
    metrics = ServiceMetrics()
    database = AnsweringDatabase(backlog=7, oldest_seconds=1.0, answers={})

    async def unreachable(_: Any) -> dict[TopicPartition, int]:
        raise OSError("broker unreachable")

    await refreshed(metrics, database, Lag(unreachable), lambda: value(metrics, "backbone_outbox_backlog") == 7)
    assert ("backbone_consumer_lag", frozenset({("topic", EVENTS), ("partition", "0")})) not in samples(metrics)


# --- counting in the Subscription -----------------------------------------------------------------------


class NoDatabase:
    """A pool whose transactions do nothing: enough for record handlers that touch no table."""

    def acquire(self) -> contextlib.nullcontext[NoDatabase]:
        return contextlib.nullcontext(self)

    def transaction(self) -> contextlib.nullcontext[NoDatabase]:
        return contextlib.nullcontext(self)


class KeptDeadLetters:
    """A producer that keeps what the dead-letter path sends."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send_and_wait(self, topic: str, **_: Any) -> None:
        self.sent.append(topic)


class GroupMember:
    """The consumer a batch came from: assigned every partition of its batches, keeping what was committed."""

    def __init__(self, assigned: set[TopicPartition]) -> None:
        self.assigned = assigned
        self.committed: dict[TopicPartition, int] = {}

    def assignment(self) -> set[TopicPartition]:
        return self.assigned

    async def commit(self, offsets: dict[TopicPartition, int]) -> None:
        self.committed |= offsets


class Batch:
    def __init__(self, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        self.raw_message = tuple(records)
        self.consumer = GroupMember({TopicPartition(r.topic, r.partition) for r in records})


def record(
    topic: str,
    offset: int,
    *,
    headers: list[tuple[str, bytes]] | None = None,
    event: tuple[type[Event], dict[str, Any]] = (ConsultationReceived, {}),
) -> ConsumerRecord[bytes, bytes]:
    model, body = event
    envelope = Envelope(id=uuid.uuid4(), source="/t", type=model.TYPE, time=datetime.now(UTC), correlationid="c")
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=offset,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=json.dumps(body or CONSULTATION).encode(),
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=1,
        headers=encode_headers(envelope.to_headers()) if headers is None else headers,
    )


def subscription(metrics: ServiceMetrics, producer: KeptDeadLetters) -> Subscription:
    sub = Subscription(
        "tests",
        [INGRESS, EVENTS],
        pool=NoDatabase(),  # type: ignore[arg-type]
        producer=producer,
        settings=DeliverySettings(max_attempts=1, retry_base_seconds=0.001),
        tracer=trace.get_tracer("tests"),
        metrics=metrics,
    )

    async def apply_submission(_: Connection, received: ConsumerRecord[bytes, bytes]) -> None:
        if received.offset == 3:
            raise PoisonRecordError(PoisonReason.SCHEMA_VIOLATION, "refused by the handler")

    sub.on_records(INGRESS, apply_submission)
    return sub


async def test_a_batch_counts_each_record_once_by_its_outcome() -> None:
    metrics, producer = ServiceMetrics(), KeptDeadLetters()
    batch = Batch(
        [
            record(INGRESS, 1),
            record(INGRESS, 2),
            record(INGRESS, 3),  # refused: the batch's run stops here, this one and the rest go one by one
            record(INGRESS, 4),
            record(EVENTS, 5, event=(ConsentWithdrawn, WITHDRAWAL)),  # no handler here, and it involves nobody
            record(EVENTS, 6, headers=[("ce_type", b"\xff")]),  # poison: its header is not UTF-8
        ]
    )
    await subscription(metrics, producer)._on_batch(batch)  # type: ignore[arg-type]

    # Committed past every record, for the batch's own partitions only.
    assert batch.consumer.committed == {TopicPartition(INGRESS, 0): 5, TopicPartition(EVENTS, 0): 7}

    assert value(metrics, "backbone_records_total", topic=INGRESS, outcome="applied") == 3
    assert value(metrics, "backbone_processing_seconds_count", topic=INGRESS) == 3
    assert value(metrics, "backbone_records_total", topic=INGRESS, outcome="dead-lettered") == 1
    assert value(metrics, "backbone_records_total", topic=EVENTS, outcome="ignored") == 1
    assert value(metrics, "backbone_records_total", topic=EVENTS, outcome="dead-lettered") == 1
    assert value(metrics, "backbone_processing_seconds_count", topic=EVENTS) is None
    assert value(metrics, "backbone_dead_letters_total", topic=INGRESS) == 1
    assert value(metrics, "backbone_dead_letters_total", topic=EVENTS) == 1
    assert producer.sent == ["tests.dlq.v1", "tests.dlq.v1"]


async def test_a_partition_a_rebalance_took_away_meanwhile_is_left_to_its_new_owner() -> None:
    batch = Batch([record(INGRESS, 1), record(EVENTS, 5, event=(ConsentWithdrawn, WITHDRAWAL))])
    batch.consumer.assigned.discard(TopicPartition(INGRESS, 0))
    await subscription(ServiceMetrics(), KeptDeadLetters())._on_batch(batch)  # type: ignore[arg-type]

    assert batch.consumer.committed == {TopicPartition(EVENTS, 0): 6}


class Unreachable:
    """A pool that must not be used: it counts the tries (the kit would survive the error it raises)."""

    def __init__(self) -> None:
        self.tries = 0

    def acquire(self) -> None:
        self.tries += 1
        raise AssertionError("a batch with nothing to apply took a connection")


async def test_a_batch_with_nothing_for_this_consumer_takes_no_transaction() -> None:
    withdrawals = [record(EVENTS, n, event=(ConsentWithdrawn, WITHDRAWAL)) for n in (1, 2)]  # no handler, nobody new
    sub = subscription(ServiceMetrics(), KeptDeadLetters())
    sub.pool = pool = Unreachable()  # type: ignore[assignment]
    batch = Batch(withdrawals)
    await sub._on_batch(batch)  # type: ignore[arg-type]

    assert pool.tries == 0 and sub.stats.ignored == 2
    assert batch.consumer.committed == {TopicPartition(EVENTS, 0): 3}


# --- the HTTP edge --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("service", "own"),
    [
        ("intake", None),
        ("referral", "backbone_referrals_overdue"),
        ("notify", "backbone_notification_delivery_seconds_count"),
    ],
)
async def test_every_service_serves_its_metrics_outside_its_openapi(service: Any, own: str | None) -> None:
    app = placeholder_app(service)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://service") as client:
        answer = await client.get("/metrics")
        schema = (await client.get("/openapi.json")).json()
    assert answer.status_code == 200
    assert answer.headers["content-type"] == CONTENT_TYPE_LATEST
    names = {sample.name for family in text_string_to_metric_families(answer.text) for sample in family.samples}
    assert {"backbone_outbox_backlog", "backbone_outbox_oldest_unsent_seconds"} <= names
    if own is not None:
        assert own in names
    assert "/metrics" not in schema["paths"]
