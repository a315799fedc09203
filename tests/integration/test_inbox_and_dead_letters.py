"""Inbox dedup and the dead-letter path, against the real broker and database."""

from __future__ import annotations

import json
import uuid

import asyncpg
from aiokafka import AIOKafkaProducer
from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from opentelemetry import trace

from backbone.db import Connection
from backbone.delivery import Subscription
from backbone.kafka import place_group_at_end
from backbone.records import Received
from schemas.events import ConsultationReceived
from schemas.topics import INTAKE_EVENTS, dead_letter_topic
from tests.integration.kafka_tools import end_offsets, eventually, produce, read_from
from tests.integration.kit import FAST_DELIVERY, consultation, consuming, raw_record, record_effect

TOPIC = INTAKE_EVENTS.name
TRACER = trace.get_tracer("tests")


def subscription(name: str, pool: asyncpg.Pool, producer: AIOKafkaProducer) -> Subscription:
    sub = Subscription(name, [TOPIC], pool=pool, producer=producer, settings=FAST_DELIVERY, tracer=TRACER)
    sub.on(ConsultationReceived, record_effect)
    return sub


async def effects_of(pool: asyncpg.Pool, case_id: uuid.UUID) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM test_effects WHERE case_id = $1", case_id)
    return count


async def test_the_same_event_delivered_twice_has_one_effect(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    event = consultation()
    record = raw_record(event)
    marker = raw_record(consultation(event.case_id))  # a later event of the same case, same partition
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    await produce(bootstrap, TOPIC, [record, record, marker])

    sub = subscription(consumer_name, pool, producer)
    async with consuming(sub, bootstrap):
        await eventually(lambda: effects_of(pool, event.case_id), within=30)
        await eventually(lambda: sub.stats.applied + sub.stats.duplicates >= 3)

    assert await effects_of(pool, event.case_id) == 2  # the event once, the marker once
    assert sub.stats.duplicates == 1


async def test_poison_records_are_dead_lettered_with_the_reason_and_the_partition_moves_on(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    good = consultation()
    key, value, headers = raw_record(good)
    poison = [
        (key, b"{not json", headers),
        (key, value, [(n, b"jp.fujisawa.welfare.meetings.nothing.v1" if n == "ce_type" else v) for n, v in headers]),
        (key, value, [*headers, ("x-agency-note", b"\xff\xfe\x00")]),
        (key, b'{"case_id": "not-a-uuid"}', headers),
        (key, value, [(n, v) for n, v in headers if not n.startswith("ce_")]),
    ]
    expected = ["invalid-json", "unknown-event-type", "header-not-utf8", "schema-violation", "not-a-cloudevent"]
    dead_letters = dead_letter_topic(consumer_name).name

    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    sub = subscription(consumer_name, pool, producer)
    async with consuming(sub, bootstrap):
        since = await end_offsets(bootstrap, dead_letters)
        await produce(bootstrap, TOPIC, [*poison, (key, value, headers)])
        await eventually(lambda: effects_of(pool, good.case_id))
        letters = await read_from(bootstrap, dead_letters, since, until=lambda got: len(got) >= len(poison))

    reasons = [dict(letter.headers)["dlq.reason"].decode() for letter in letters]
    assert reasons == expected
    assert [letter.value for letter in letters] == [record[1] for record in poison]  # original bytes kept
    assert dict(letters[2].headers)["x-agency-note"] == b"\xff\xfe\x00"
    offsets = [int(dict(letter.headers)["dlq.offset"]) for letter in letters]
    assert offsets == sorted(offsets) and len(set(offsets)) == len(offsets)
    assert await effects_of(pool, good.case_id) == 1
    assert sub.stats.dead_lettered == len(poison)


async def test_a_newer_producers_field_and_event_type_pass_a_tolerant_reader_and_nothing_is_dead_lettered(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    """A rolling upgrade with the producer first: its new optional field is ignored and the event applied; its new
    event type (here a .v2 of one the reader knows) is left be; the dead-letter topic gets nothing."""
    widened, marker = consultation(), consultation()
    key, value, headers = raw_record(widened)
    newer_value = json.dumps({**json.loads(value), "preferred_language": "pt-BR"}).encode()
    v2 = [(n, ConsultationReceived.TYPE.replace(".v1", ".v2").encode() if n == "ce_type" else v) for n, v in headers]
    v2 = [(n, str(uuid.uuid4()).encode() if n == "ce_id" else v) for n, v in v2]
    dead_letters = dead_letter_topic(consumer_name).name

    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    sub = subscription(consumer_name, pool, producer)
    async with consuming(sub, bootstrap):
        since = await end_offsets(bootstrap, dead_letters)
        await produce(bootstrap, TOPIC, [(key, value, v2), (key, newer_value, headers), raw_record(marker)])
        await eventually(lambda: effects_of(pool, marker.case_id))

    assert await effects_of(pool, widened.case_id) == 1  # the widened event applied, once
    assert await end_offsets(bootstrap, dead_letters) == since
    assert sub.stats.dead_lettered == 0


async def test_a_failing_handler_is_retried_then_dead_lettered_and_the_next_record_applied(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    doomed, after = consultation(), consultation()
    after = consultation(doomed.case_id)
    attempts: list[uuid.UUID] = []

    async def fails_for_doomed(conn: Connection, received: Received[ConsultationReceived]) -> None:
        if received.event.consultation_id == doomed.consultation_id:
            attempts.append(received.envelope.id)
            await conn.execute(
                "INSERT INTO test_effects (consumer, event_id, case_id) VALUES ('kit', $1, $2)",
                received.envelope.id,
                received.event.case_id,
            )
            raise RuntimeError("the agency's system rejected the case")
        await record_effect(conn, received)

    sub = Subscription(consumer_name, [TOPIC], pool=pool, producer=producer, settings=FAST_DELIVERY, tracer=TRACER)
    sub.on(ConsultationReceived, fails_for_doomed)
    dead_letters = dead_letter_topic(consumer_name).name
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    async with consuming(sub, bootstrap):
        since = await end_offsets(bootstrap, dead_letters)
        await produce(bootstrap, TOPIC, [raw_record(doomed), raw_record(after)])
        await eventually(lambda: effects_of(pool, doomed.case_id))
        letters = await read_from(bootstrap, dead_letters, since, until=lambda got: len(got) >= 1)

    assert len(attempts) == FAST_DELIVERY.max_attempts
    assert await effects_of(pool, doomed.case_id) == 1  # only `after`: each failed attempt rolled back
    (letter,) = letters
    headers = dict(letter.headers)
    assert headers["dlq.reason"] == b"handler-failed"
    assert b"RuntimeError" in headers["dlq.detail"]
    assert headers["dlq.attempts"] == str(FAST_DELIVERY.max_attempts).encode()
    # A dead letter is still the original CloudEvent: the official SDK reads it, ignoring the dlq.* headers.
    event = from_binary(KafkaMessage(headers=headers, key=letter.key, value=letter.value), JSONFormat())
    assert event.get_type() == ConsultationReceived.TYPE
    assert event.get_data()["consultation_id"] == str(doomed.consultation_id)


async def test_records_before_a_failing_one_in_a_batch_are_applied_once_and_those_after_it_in_order(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    first = consultation()
    second, doomed, last = (consultation(first.case_id) for _ in range(3))  # one case: one partition, in order
    applied: list[uuid.UUID] = []  # committed or not: the batch is tried together first

    async def fails_for_doomed(conn: Connection, received: Received[ConsultationReceived]) -> None:
        applied.append(received.event.consultation_id)
        if received.event.consultation_id == doomed.consultation_id:
            raise RuntimeError("the agency's system rejected the case")
        await record_effect(conn, received)

    sub = Subscription(consumer_name, [TOPIC], pool=pool, producer=producer, settings=FAST_DELIVERY, tracer=TRACER)
    sub.on(ConsultationReceived, fails_for_doomed)
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    await produce(bootstrap, TOPIC, [raw_record(event) for event in (first, second, doomed, last)])  # one batch
    async with consuming(sub, bootstrap):
        await eventually(lambda: sub.stats.dead_lettered >= 1 and sub.stats.applied >= 3, within=30)

    assert (
        await effects_of(pool, first.case_id) == 3
    )  # first, second and last, once each: the rolled-back try left nothing
    assert applied.count(doomed.consultation_id) == FAST_DELIVERY.max_attempts  # the batch's try counted
    assert applied.index(last.consultation_id) > max(i for i, c in enumerate(applied) if c == doomed.consultation_id)
