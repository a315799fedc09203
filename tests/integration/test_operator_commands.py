"""The operators' commands of docs/runbook.md against the real broker and database: dead letters listed and
re-driven, the outbox replayed, a stopped group rewound, and a service's container acting on that service only."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaProducer, TopicPartition
from opentelemetry import trace

from backbone.agencies import new_token
from backbone.db import Connection
from backbone.delivery import Subscription
from backbone.kafka import place_group_at_end
from backbone.outbox import Outbox, publish_row
from backbone.records import Received
from backbone.settings import DatabaseSettings, KafkaSettings, ServiceName, ServiceSettings
from console.deadletters import list_dead_letters, redrive
from console.errors import OperatorError
from console.offsets import Move, rewind
from console.replay import replay
from console.window import Window
from devtools.local.stack import LocalStack
from schemas.events import ConsultationReceived
from schemas.topics import INTAKE_EVENTS, INTAKE_SUBMISSIONS, dead_letter_topic
from schemas.vocabulary import AgencyType
from tests.integration.ingress import sealed_submission
from tests.integration.kafka_tools import Record, end_offsets, eventually, produce, read_from
from tests.integration.kit import FAST_DELIVERY, consultation, consuming, raw_record, record_effect
from tests.integration.services import RunningServices

TOPIC = INTAKE_EVENTS.name
TRACER = trace.get_tracer("tests")


async def effects_of(pool: asyncpg.Pool, case_id: uuid.UUID) -> int:
    count: int = await pool.fetchval("SELECT count(*) FROM test_effects WHERE case_id = $1", case_id)
    return count


class Broken:
    """A handler that fails for some consultations until it is fixed, like a bug fixed by a deployment."""

    def __init__(self, *doomed: ConsultationReceived) -> None:
        self.doomed = {event.consultation_id for event in doomed}
        self.fixed: set[uuid.UUID] = set()

    def fix(self, event: ConsultationReceived) -> None:
        self.fixed.add(event.consultation_id)

    async def __call__(self, conn: Connection, received: Received[ConsultationReceived]) -> None:
        consultation_id = received.event.consultation_id
        if consultation_id in self.doomed and consultation_id not in self.fixed:
            raise RuntimeError("no agency serves the district")
        await record_effect(conn, received)


def subscription(name: str, pool: asyncpg.Pool, producer: AIOKafkaProducer, handler: Broken) -> Subscription:
    sub = Subscription(name, [TOPIC], pool=pool, producer=producer, settings=FAST_DELIVERY, tracer=TRACER)
    sub.on(ConsultationReceived, handler)
    return sub


async def test_a_fixed_handler_applies_a_dead_letter_once_and_a_second_redrive_does_nothing(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    doomed = consultation()
    handler = Broken(doomed)
    sub = subscription(consumer_name, pool, producer, handler)
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    async with consuming(sub, bootstrap):
        await produce(bootstrap, TOPIC, [raw_record(doomed)])
        await eventually(lambda: sub.stats.dead_lettered >= 1)
    assert await effects_of(pool, doomed.case_id) == 0

    handler.fix(doomed)  # the fix is deployed
    lines: list[str] = []
    assert await redrive(sub, kafka, dry_run=True, report=lines.append) == Counter({"would apply": 1})
    assert await effects_of(pool, doomed.case_id) == 0  # a dry run writes nothing
    assert str(doomed.consultation_id) not in "\n".join(lines)  # and never prints the value

    assert await redrive(sub, kafka, dry_run=False, report=lines.append) == Counter({"applied": 1})
    assert await effects_of(pool, doomed.case_id) == 1
    assert await redrive(sub, kafka, dry_run=False, report=lines.append) == Counter()
    assert await effects_of(pool, doomed.case_id) == 1

    (letter,) = await list_dead_letters(kafka, consumer_name)
    assert letter.redriven
    assert letter.letter.reason == "handler-failed"
    assert letter.letter.attempts == FAST_DELIVERY.max_attempts


async def test_a_redrive_finds_an_event_applied_meanwhile_done_and_puts_one_that_fails_again_back(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    redelivered = consultation()
    still_broken = consultation(redelivered.case_id)  # one case, one partition: the dead letters keep this order
    first, broken_id = raw_record(redelivered), uuid.uuid4()
    handler = Broken(redelivered, still_broken)
    sub = subscription(consumer_name, pool, producer, handler)
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    async with consuming(sub, bootstrap):
        await produce(bootstrap, TOPIC, [first, raw_record(still_broken, event_id=broken_id)])
        await eventually(lambda: sub.stats.dead_lettered >= 2)
        handler.fix(redelivered)
        await produce(bootstrap, TOPIC, [first])  # the same event again (a producer's retry), now applied
        await eventually(lambda: effects_of(pool, redelivered.case_id))

    outcomes = await redrive(sub, kafka, dry_run=False, report=lambda _: None)
    assert outcomes == Counter({"already done": 1, "failed again": 1})
    assert await effects_of(pool, redelivered.case_id) == 1  # the redelivered event's, once
    assert not await pool.fetchval("SELECT 1 FROM test_effects WHERE event_id = $1", broken_id)

    listed = await list_dead_letters(kafka, consumer_name)
    first_id = dict(first[2])["ce_id"].decode()
    assert [(item.letter.event_id, item.redriven) for item in listed] == [
        (first_id, True),
        (str(broken_id), True),
        (str(broken_id), False),  # failed again: back in the topic, waiting for the next re-drive
    ]
    assert listed[2].letter.origin == listed[1].letter.origin  # it keeps its origin
    assert listed[2].letter.attempts == FAST_DELIVERY.max_attempts

    # A second re-drive does not repeat the first: only the new dead letter is tried.
    assert await redrive(sub, kafka, dry_run=True, report=lambda _: None) == Counter({"would fail again": 1})


async def test_outbox_replay_publishes_sent_rows_again_and_inboxes_keep_effects_single(
    pool: asyncpg.Pool,
    producer: AIOKafkaProducer,
    bootstrap: str,
    consumer_name: str,
    tests_database: DatabaseSettings,
) -> None:
    events = [consultation() for _ in range(3)]
    handler = Broken()
    sub = subscription(consumer_name, pool, producer, handler)
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    since = await pool.fetchval("SELECT now()")
    with TRACER.start_as_current_span("case work"):
        async with pool.acquire() as conn, conn.transaction():
            envelopes = [await Outbox("/tests").add(conn, event) for event in events]
    ids = {str(envelope.id) for envelope in envelopes}
    async with consuming(sub, bootstrap):
        await send_only(pool, producer, ids)

        async def all_applied() -> bool:
            return all([await effects_of(pool, event.case_id) for event in events])

        await eventually(all_applied)
        until = await pool.fetchval("SELECT now()")
        sent = await _sent(pool, ids)
        settings = ServiceSettings(
            service="intake", database=tests_database, kafka=KafkaSettings(bootstrap_servers=bootstrap)
        )
        window = Window(since, until)
        assert await replay(settings, window, dry_run=True, batch=2, report=lambda _: None) == 3

        topic_since = await end_offsets(bootstrap, TOPIC)
        duplicates = sub.stats.duplicates
        progress: list[str] = []
        assert await replay(settings, window, dry_run=False, batch=2, report=progress.append) == 3
        await eventually(lambda: sub.stats.duplicates >= duplicates + 3)

    assert [line.split(": ")[1] for line in progress[1:]] == ["2 / 3 rows re-published", "3 / 3 rows re-published"]
    for event in events:
        assert await effects_of(pool, event.case_id) == 1  # each event's effect once
    assert await _sent(pool, ids) == sent  # the rows stay as sent

    def ours(records: list[Record]) -> list[Record]:
        return [r for r in records if dict(r.headers).get("ce_id", b"").decode() in ids]

    replayed = ours(await read_from(bootstrap, TOPIC, topic_since, until=lambda got: len(ours(got)) >= 3))
    by_id = {dict(r.headers)["ce_id"].decode(): r for r in replayed}
    stored = await _stored_traceparents(pool, ids)
    for envelope, event in zip(envelopes, events, strict=True):
        record = by_id[str(envelope.id)]
        assert record.key == str(event.case_id).encode()
        assert json.loads(record.value) == json.loads(event.model_dump_json())
        headers = dict(record.headers)
        assert headers["ce_type"] == event.TYPE.encode()
        assert _trace_id(headers["traceparent"]) == _trace_id(stored[str(envelope.id)])  # the same trace


async def test_rewinding_a_stopped_group_consumes_again_from_the_moment_and_the_inbox_skips_the_rest(
    pool: asyncpg.Pool, producer: AIOKafkaProducer, bootstrap: str, consumer_name: str
) -> None:
    before = consultation()
    after = consultation(before.case_id)  # one case, one partition
    before_id, after_id = uuid.uuid4(), uuid.uuid4()
    sub = subscription(consumer_name, pool, producer, Broken())
    kafka = KafkaSettings(bootstrap_servers=bootstrap)
    await place_group_at_end(bootstrap, consumer_name, [TOPIC])
    async with consuming(sub, bootstrap):
        await produce(bootstrap, TOPIC, [raw_record(before, event_id=before_id)])
        await eventually(lambda: effects_of(pool, before.case_id))
        await asyncio.sleep(0.05)
        moment = datetime.now(UTC)  # records carry their producer's time (CreateTime), on this same clock
        await asyncio.sleep(0.05)
        await produce(bootstrap, TOPIC, [raw_record(after, event_id=after_id)])
        await eventually(lambda: _at_least(effects_of(pool, before.case_id), 2))
        with pytest.raises(OperatorError, match="stop the service first"):
            await rewind(kafka, consumer_name, [TOPIC], moment, dry_run=True, report=lambda _: None)
    where = "SELECT kafka_partition, kafka_offset FROM inbox WHERE consumer = $1 AND event_id = $2"
    first, then = (
        await pool.fetchrow(where, consumer_name, before_id),
        await pool.fetchrow(where, consumer_name, after_id),
    )
    partition = TopicPartition(TOPIC, then["kafka_partition"])

    moves: list[Move] = []

    async def rewound() -> bool:  # the group empties once the stopped consumer has left it
        try:
            moves[:] = await rewind(kafka, consumer_name, [TOPIC], moment, dry_run=False, report=lambda _: None)
        except OperatorError:
            return False
        return True

    await eventually(rewound, within=30)
    (ours,) = [move for move in moves if move.partition == partition]
    # Back to the first record since the moment (`after`, unless another producer wrote there in between);
    # `before` stays done.
    assert first["kafka_offset"] < ours.to <= then["kafka_offset"]

    restarted = subscription(consumer_name, pool, producer, Broken())
    async with consuming(restarted, bootstrap):  # the service starts again
        await eventually(lambda: restarted.stats.duplicates >= 1)
    assert await effects_of(pool, before.case_id) == 2  # each event's effect once


async def test_a_forged_submission_is_dead_lettered_and_listed_without_its_value(
    services: RunningServices, bootstrap: str, stack: LocalStack
) -> None:
    agency = ("chiku-fukushi-meiji", AgencyType.DISTRICT_WELFARE_COUNTER)
    await services.token(*agency)
    async with services.client("intake") as intake:
        public_key = (await intake.get("/v1/keys/submission")).json()["public_key"]
    marker = f"staff-{uuid.uuid4().hex}"
    facts = {
        "receiving_agency": agency[0],
        "staff_id": marker,
        "channel": "counter",
        "district": "meiji",
        "domains": ["elderly"],
        "urgency": "normal",
    }
    forged = sealed_submission(f"{agency[0]}.not-our-secret", facts, None, public_key)
    forged_id = dict(forged[2])["ce_id"].decode()
    letters = dead_letter_topic("intake").name
    since = await end_offsets(bootstrap, letters)
    await produce(bootstrap, INTAKE_SUBMISSIONS.name, [forged])

    def carries_ours(records: list[Record]) -> bool:
        return any(dict(r.headers).get("ce_id") == forged_id.encode() for r in records)

    (letter,) = [r for r in await read_from(bootstrap, letters, since, until=carries_ours) if carries_ours([r])]

    listed = await list_dead_letters(stack.settings_for("intake").kafka, "intake")
    (ours,) = [item.letter for item in listed if item.letter.event_id == forged_id]
    assert ours.reason == "unauthenticated"
    assert ours.origin is not None and ours.origin.topic == INTAKE_SUBMISSIONS.name
    assert ours.origin.offset == int(dict(letter.headers)["dlq.offset"])
    assert ours.attempts == 1  # the handler refused it on its first attempt, without retrying

    # The command itself, as an operator runs it on the local stack.
    code, out, err = await backbone(["dlq", "list", "intake", "--json"], local_environment())
    assert code == 0, err
    (shown,) = [row for row in json.loads(out) if row["event_id"] == forged_id]
    assert shown["reason"] == "unauthenticated" and shown["origin"]["topic"] == INTAKE_SUBMISSIONS.name
    assert marker not in out  # never the record's value
    code, out, _ = await backbone(["dlq", "list", "intake"], local_environment())
    assert code == 0 and forged_id in out and marker not in out


async def test_in_a_services_container_the_commands_act_on_that_service_only(
    services: RunningServices, stack: LocalStack
) -> None:
    referral = container_environment(stack, "referral")
    code, _, err = await backbone(["dlq", "list", "intake"], referral)
    assert code == 2
    assert "this is referral's container" in err

    code, out, err = await backbone(["dlq", "list", "referral", "--json"], referral)
    assert code == 0, err
    assert isinstance(json.loads(out), list)

    agency = f"test-agency-{uuid.uuid4().hex[:8]}"
    token = new_token(agency)
    command = ["agency-token", agency, "--type", "district-welfare-counter", "--token-stdin"]
    code, _, err = await backbone(command, referral, stdin=f"{token}\n")
    assert code == 0, err
    assert await _registered(services, "referral", token)
    assert not await _registered(services, "intake", token)  # intake's container registers it there

    code, _, err = await backbone(command, referral, stdin=f"{new_token('someone-else')}\n")
    assert code == 2
    assert f"stdin does not hold a token of {agency}" in err

    code, out, err = await backbone(
        ["outbox", "replay", "referral", "--since", "2999-01-01T00:00:00+09:00", "--dry-run"], referral
    )
    assert code == 0, err
    assert "nothing to replay" in out


# --- helpers -------------------------------------------------------------------------------------------------


async def backbone(words: list[str], environment: dict[str, str], *, stdin: str = "") -> tuple[int, str, str]:
    """Run the `backbone` command as an operator would; (exit code, stdout, stderr)."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "console.main",
        *words,
        env=environment,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(stdin.encode()), 120)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def local_environment() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if name != "BACKBONE_SERVICE"}


def container_environment(stack: LocalStack, service: ServiceName) -> dict[str, str]:
    """What a service's container holds: its own settings only, as BACKBONE_* variables."""
    settings = stack.settings_for(service)
    environment = {name: value for name, value in os.environ.items() if not name.startswith("BACKBONE_")}
    environment |= {
        "BACKBONE_SERVICE": service,
        "BACKBONE_DATABASE__DSN": settings.database.dsn.get_secret_value(),
        "BACKBONE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
    }
    if settings.credentials_key is not None:
        environment["BACKBONE_CREDENTIALS_KEY"] = settings.credentials_key.get_secret_value()
    return environment


async def _registered(services: RunningServices, service: ServiceName, token: str) -> bool:
    runtime = services.runtime(service)
    assert runtime.credentials is not None
    async with runtime.pool.acquire() as conn:
        return await runtime.credentials.by_token(conn, token) is not None


async def send_only(pool: asyncpg.Pool, producer: AIOKafkaProducer, ids: set[str]) -> None:
    """What the relay does, for these rows only: the tests database's outbox also holds other tests' unsent
    rows (casework property and timer tests), which must not reach the shared topics from here."""
    async with pool.acquire() as conn, conn.transaction():
        rows = await conn.fetch(
            "SELECT seq, topic, record_key, headers, payload FROM outbox WHERE event_id = ANY($1::uuid[]) ORDER BY seq",
            [uuid.UUID(i) for i in ids],
        )
        await asyncio.gather(*[await publish_row(producer, TRACER, row) for row in rows])
        await conn.execute(
            "UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])", [r["seq"] for r in rows]
        )


async def _at_least(count: Any, least: int) -> bool:
    return bool(await count >= least)


async def _sent(pool: asyncpg.Pool, ids: set[str]) -> dict[str, Any]:
    rows = await pool.fetch(
        "SELECT event_id, published_at FROM outbox WHERE event_id = ANY($1::uuid[])", [uuid.UUID(i) for i in ids]
    )
    return {str(row["event_id"]): row["published_at"] for row in rows}


async def _stored_traceparents(pool: asyncpg.Pool, ids: set[str]) -> dict[str, str]:
    rows = await pool.fetch(
        "SELECT event_id, headers FROM outbox WHERE event_id = ANY($1::uuid[])", [uuid.UUID(i) for i in ids]
    )
    return {str(row["event_id"]): json.loads(row["headers"])["traceparent"] for row in rows}


def _trace_id(traceparent: bytes | str) -> str:
    text = traceparent.decode() if isinstance(traceparent, bytes) else traceparent
    return text.split("-")[1]
