"""`dlq redrive --dry-run`: each record is tried as `process` would apply it, and nothing stays written.

The database is an in-memory stand-in whose transactions really keep or drop what was written in them,
and whose inbox answers a second claim of an event as "already done", as PostgreSQL's primary key does.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from aiokafka.structs import ConsumerRecord
from opentelemetry import trace

from backbone.db import Connection
from backbone.delivery import Rehearsal, Subscription
from backbone.kafka import encode_headers
from backbone.records import PoisonReason, PoisonRecordError, Received
from backbone.service import ServiceRuntime
from backbone.settings import DeliverySettings
from devtools.documents.asyncapi import placeholder_app
from schemas.envelope import Envelope
from schemas.events import ConsultationReceived

EVENTS = "intake.events.v1"
INGRESS = "intake.submissions.v1"
BODY = {
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


class Transaction:
    def __init__(self, database: Database) -> None:
        self.database = database

    async def start(self) -> None:
        self.database.pending = []

    async def rollback(self) -> None:
        self.database.pending = []

    async def commit(self) -> None:
        self.database.rows += self.database.pending
        self.database.pending = []

    async def __aenter__(self) -> Transaction:
        await self.start()
        return self

    async def __aexit__(self, kind: object, *_: object) -> None:
        await (self.rollback() if kind else self.commit())


class Database:
    """A pool and its one connection: committed rows, and the rows of the open transaction."""

    def __init__(self, *, applied: tuple[uuid.UUID, ...] = ()) -> None:
        self.rows: list[tuple[str, Any]] = [("inbox", event_id) for event_id in applied]
        self.pending: list[tuple[str, Any]] = []

    def acquire(self) -> contextlib.nullcontext[Database]:
        return contextlib.nullcontext(self)

    def transaction(self) -> Transaction:
        return Transaction(self)

    async def fetch(self, query: str, consumer: str, event_ids: list[uuid.UUID], *_: Any) -> list[dict[str, Any]]:
        assert query.startswith("INSERT INTO inbox")
        claimed = []
        for event_id in event_ids:
            row = ("inbox", event_id)
            if row in self.rows or row in self.pending:
                continue  # ON CONFLICT DO NOTHING RETURNING event_id: no row
            self.pending.append(row)
            claimed.append({"event_id": event_id})
        return claimed

    async def execute(self, query: str, *args: Any) -> None:
        self.pending.append(("effect", args))


class NoProducer:
    async def send_and_wait(self, topic: str, **_: Any) -> None:
        raise AssertionError(f"a rehearsal must not dead-letter (to {topic})")


def record(
    *, topic: str = EVENTS, event_id: uuid.UUID | None = None, headers: Any = None
) -> ConsumerRecord[bytes, bytes]:
    envelope = Envelope(
        id=event_id or uuid.uuid4(),
        source="/t",
        type=ConsultationReceived.TYPE,
        time=datetime.now(UTC),
        correlationid="c",
    )
    return ConsumerRecord(
        topic=topic,
        partition=2,
        offset=40,
        timestamp=0,
        timestamp_type=0,
        key=b"c",
        value=json.dumps(BODY).encode(),
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=1,
        headers=encode_headers(envelope.to_headers()) if headers is None else headers,
    )


def consumer(database: Database, *, fails_with: Exception | None = None) -> Subscription:
    sub = Subscription(
        "referral",
        [EVENTS, INGRESS],
        pool=database,  # type: ignore[arg-type]
        producer=NoProducer(),  # type: ignore[arg-type]
        settings=DeliverySettings(max_attempts=2, retry_base_seconds=0.001),
        tracer=trace.get_tracer("tests"),
    )

    async def consultation(conn: Connection, received: Received[ConsultationReceived]) -> None:
        await conn.execute("INSERT INTO cases …", received.event.case_id)
        if fails_with is not None:
            raise fails_with

    async def submission(conn: Connection, _: ConsumerRecord[bytes, bytes]) -> None:
        await conn.execute("INSERT INTO submissions …")

    sub.on(ConsultationReceived, consultation)
    sub.on_records(INGRESS, submission)
    return sub


async def test_a_fresh_event_would_apply_and_nothing_stays_written() -> None:
    database = Database()
    assert await consumer(database).rehearse(record()) == Rehearsal("would apply")
    assert database.rows == []
    assert database.pending == []


async def test_an_event_the_inbox_holds_is_already_done() -> None:
    done = uuid.uuid4()
    database = Database(applied=(done,))
    assert await consumer(database).rehearse(record(event_id=done)) == Rehearsal("already applied")
    assert database.rows == [("inbox", done)]


async def test_a_handler_that_still_fails_is_reported_with_its_error() -> None:
    database = Database()
    sub = consumer(database, fails_with=RuntimeError("no agency serves district endo"))
    assert await sub.rehearse(record()) == Rehearsal("would fail", "RuntimeError: no agency serves district endo")
    assert database.rows == []
    assert sub.stats.retries == 0  # tried once, not retried


async def test_poison_is_named_whether_the_record_or_the_handler_refuses_it() -> None:
    database = Database()
    bad_header = await consumer(database).rehearse(record(headers=[("ce_type", b"\xff")]))
    assert bad_header.verdict == "poison"
    assert bad_header.detail.startswith("header-not-utf8: ")
    refusal = PoisonRecordError(PoisonReason.UNAUTHENTICATED, "the signature does not verify for 'csw-endo'")
    refused = await consumer(database, fails_with=refusal).rehearse(record())
    assert refused == Rehearsal("poison", "unauthenticated: the signature does not verify for 'csw-endo'")
    assert database.rows == []


async def test_an_ingress_record_goes_to_its_record_handler() -> None:
    database = Database()
    assert await consumer(database).rehearse(record(topic=INGRESS, headers=[])) == Rehearsal("would apply")
    assert database.rows == []


@pytest.mark.parametrize("service", ["intake", "referral", "meetings", "notify", "audit"])
def test_a_re_drive_uses_the_services_own_consumer(service: Any) -> None:
    runtime: ServiceRuntime = placeholder_app(service).state.runtime
    sub = runtime.consumer(Database(), NoProducer())  # type: ignore[arg-type]
    assert sub.consumer == service  # the same inbox rows and the same dead-letter topic as the service
    assert sub.dead_letter_topic == f"{service}.dlq.v1"
    assert set(sub.topics) == set(runtime.consumed)
