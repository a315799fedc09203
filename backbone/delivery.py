"""Consuming events: ack after commit, inbox dedup, bounded retries, dead letters.

For every record of a batch, in partition order:
- a record that cannot be an event (bad header, not a CloudEvent, unknown type, wrong topic, bad
  JSON, schema violation) goes straight to the consumer's dead-letter topic with the reason;
- an event is applied in one database transaction together with its inbox row and the agencies it
  involves in its case (backbone/involvement.py); a duplicate is "already done";
- when the handler fails it is retried with exponential backoff, `max_attempts` times, then the record
  is dead-lettered with the error and the partition moves on;
- when the database or the network is unreachable nothing is dead-lettered: the record waits and is
  retried (capped backoff) until the outage ends, because the record is fine and the fault is ours.
The Kafka offsets are committed only after every record of the batch was applied, found done or
dead-lettered (the dead letter acknowledged by Kafka). A crash anywhere before that redelivers the
batch, and the inbox turns what was already applied into no-ops.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, Literal, TypeVar
from uuid import UUID

import asyncpg
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.structs import ConsumerRecord
from faststream import AckPolicy
from faststream.kafka import KafkaBroker
from faststream.kafka.message import KafkaAckableMessage
from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind, StatusCode

from backbone import inbox, involvement, logs
from backbone.db import OUTAGES, Connection
from backbone.deadletter import dead_letter_headers
from backbone.kafka import prompt
from backbone.metrics import ServiceMetrics
from backbone.records import NewerEventError, PoisonReason, PoisonRecordError, Received, decode
from backbone.settings import DeliverySettings
from backbone.telemetry import context_from_headers
from schemas.events import Event
from schemas.topics import dead_letter_topic

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
Handler = Callable[[Connection, Received[E]], Awaitable[None]]
RecordHandler = Callable[[Connection, ConsumerRecord[bytes, bytes]], Awaitable[None]]
Apply = Callable[[Connection], Awaitable[str]]


_scratch: contextvars.ContextVar[dict[str, Any] | None] = contextvars.ContextVar("transaction_scratch", default=None)


def transaction_scratch() -> dict[str, Any]:
    """What a handler may keep for as long as the transaction it runs in: the kit gives every transaction it
    applies records in a dict of its own, so that a batch's records can share what one of them learnt (a lock
    taken, a row read under it) and a rolled-back try starts empty. Outside such a transaction it is a new
    dict on every call, and nothing is kept."""
    found = _scratch.get()
    return found if found is not None else {}


@contextlib.contextmanager
def _new_scratch() -> Iterator[None]:
    token = _scratch.set({})
    try:
        yield
    finally:
        _scratch.reset(token)


Verdict = Literal["would apply", "already applied", "ignored", "poison", "would fail"]


@dataclass(frozen=True)
class Rehearsal:
    """What `Subscription.process` would do with a record now, and why (for `backbone dlq redrive --dry-run`)."""

    verdict: Verdict
    detail: str = ""


class _StoppedAt(Exception):  # noqa: N818 - a signal inside the fast path, not an error to report
    """A handler failed at `index` of a batch applied together: the transaction was rolled back."""

    def __init__(self, index: int, *, handler_failed: bool) -> None:
        super().__init__(index)
        self.index = index
        self.handler_failed = handler_failed


@dataclass
class DeliveryStats:
    applied: int = 0
    duplicates: int = 0
    ignored: int = 0
    dead_lettered: int = 0
    retries: int = 0


@dataclass(frozen=True)
class _Step:
    """How to apply one record. An event is claimed in the inbox first (`claim`), and `apply` runs only when the
    claim is fresh; an ingress record's handler keeps its own idempotency (`claim` None)."""

    headers: dict[str, str]
    apply: Apply
    claim: inbox.Claim | None = None

    async def alone(self, conn: Connection, *, consumer: str) -> str:
        """The record in a transaction of its own (one by one, or rehearsed): claimed, then applied."""
        claims = [self.claim] if self.claim is not None else []
        return await self.after_claim(conn, await inbox.claim_all(conn, consumer=consumer, claims=claims))

    async def after_claim(self, conn: Connection, fresh: set[UUID]) -> str:
        """The record in its transaction, whose claims `claim_all` made: `fresh` holds the ids still to apply, and
        loses this one, so that a second copy of the event in a batch is a duplicate."""
        if self.claim is not None:
            if self.claim.envelope.id not in fresh:
                return "duplicate"
            fresh.discard(self.claim.envelope.id)
        return await self.apply(conn)


class Subscription:
    """One consuming service's view of its topics: which handler applies which event type."""

    def __init__(
        self,
        consumer: str,
        topics: Sequence[str],
        *,
        pool: asyncpg.Pool,
        producer: AIOKafkaProducer,
        settings: DeliverySettings,
        tracer: trace.Tracer,
        metrics: ServiceMetrics | None = None,
    ) -> None:
        self.consumer = consumer
        self.topics = tuple(topics)
        self.pool = pool
        self.producer = producer
        self.settings = settings
        self.tracer = tracer
        self.dead_letter_topic = dead_letter_topic(consumer).name
        self.stats = DeliveryStats()
        self.metrics = metrics or ServiceMetrics()
        self._subscriber: Any = None
        self._handlers: dict[type[Event], Handler[Any]] = {}
        self._record_handlers: dict[str, RecordHandler] = {}
        self._newer_types: set[str] = set()  # said once each in the log

    def on(self, event_type: type[E], handler: Handler[E]) -> None:
        self._handlers[event_type] = handler

    def register(self, broker: KafkaBroker, *, batch_size: int) -> None:
        """Attach to FastStream: batches, manual acks, and raw records (FastStream's own parser fails on
        a header that is not UTF-8 and would stall the partition, so records reach us undecoded)."""
        # Parser and decoder are ours and cannot fail: whatever FastStream would raise before the handler
        # runs (its default decoder parses the body as JSON) would leave the batch unacknowledged, and
        # the next batch's commit would then skip it.
        subscriber: Any = None

        async def raw_batch(records: tuple[ConsumerRecord[bytes, bytes], ...]) -> KafkaAckableMessage:
            return _raw_batch(records, consumer=subscriber.consumer)

        subscriber = prompt(
            broker.subscriber(
                *self.topics,
                group_id=self.consumer,
                batch=True,
                max_records=batch_size,
                batch_timeout_ms=self.settings.poll_timeout_ms,
                auto_offset_reset="earliest",
                ack_policy=AckPolicy.MANUAL,
                parser=raw_batch,
                decoder=_undecoded,
            )
        )
        subscriber(self._on_batch)
        self._subscriber = subscriber

    def consuming(self) -> bool:
        """False once this process can never consume again: its consumer's group coordinator has died.

        aiokafka's coordinator runs as a task of its own. When an error it does not expect ends that task, every
        fetch from then on fails with that error, and FastStream logs it and polls on, forever, while records pile
        up (a broker's restart did this under uvloop). Nothing in the process can bring the consumer back, so the
        liveness probe reports it and the orchestrator restarts the process. The task is aiokafka's private
        attribute: tests/unit/kit/test_liveness.py pins its name on the aiokafka installed; if it is not found,
        this says True, never a false alarm. Before the first rebalance and once stopped, it says True too.
        """
        consumer = getattr(self._subscriber, "consumer", None)
        coordinator = getattr(consumer, "_coordinator", None)
        task = getattr(coordinator, "_coordination_task", None)
        return not (isinstance(task, asyncio.Future) and task.done() and not getattr(consumer, "_closed", False))

    def assignment(self) -> frozenset[TopicPartition]:
        """The partitions this process consumes now: none before the group's first rebalance or once stopped."""
        consumer = getattr(self._subscriber, "consumer", None)
        return frozenset(consumer.assignment()) if consumer is not None else frozenset()

    async def _on_batch(self, message: KafkaAckableMessage) -> None:
        # The broker applies no types (backbone.kafka.create_broker) and the decoder hands over the message
        # itself, so FastStream validates nothing; `process` never raises, so no record is skipped by the commit.
        records = list(message.raw_message)
        together, tried_once = await self._apply_together(records)
        for number, record in enumerate(records[together:]):
            # A record whose handler already failed in the batch has used one of its attempts.
            await self.process(record, failures=1 if number == 0 and tried_once else 0)
        await _commit_past(message.consumer, records)

    async def _apply_together(self, records: list[ConsumerRecord[bytes, bytes]]) -> tuple[int, bool]:
        """The fast path: apply the longest run of records that go through cleanly in one transaction;
        returns how many, and whether the next one's handler already failed once.

        The first record that is poison or fails stops the run: it and every record after it take the
        one-by-one path (retries, dead letters), so a partition's order is kept. There is no savepoint per
        record (two round trips each, a third of the work of a small handler): when a handler fails, the
        whole transaction is rolled back and the records before the failing one are applied together
        again. If a transaction itself fails (an outage), nothing was applied and all take that path.
        """
        try:
            try:
                done = await self._together(records)
                handler_failed = False
            except _StoppedAt as stopped:
                done = await self._together(records[: stopped.index]) if stopped.index else []
                handler_failed = stopped.handler_failed
        except Exception as error:  # noqa: BLE001 - nothing was committed; the one-by-one path waits it out
            log.warning("%s: batch transaction failed (%s); applying one by one", self.consumer, type(error).__name__)
            return 0, False
        # Counted only now that the batch is committed: had it failed, the one-by-one path would count them.
        outcomes = [outcome for _, outcome, _ in done]
        self.stats.applied += outcomes.count("applied")
        self.stats.duplicates += outcomes.count("duplicate")
        self.stats.ignored += outcomes.count("ignored")
        for topic, outcome, took in done:
            self.metrics.consumed(topic, outcome, took)
        return len(outcomes), handler_failed

    async def _together(self, records: list[ConsumerRecord[bytes, bytes]]) -> list[tuple[str, str, float | None]]:
        """Apply records in one transaction up to the first poison record, and commit; a handler's failure
        raises _StoppedAt (the transaction rolled back). Returns (topic, outcome, seconds applying it).

        The inbox claims of the batch's events go first, in one statement. A batch this consumer has no business
        with takes no transaction at all: at everyday rates a batch is one or two records, and most of a
        service's topics carry types it only lets pass."""
        steps: list[_Step | None] = []
        for record in records:
            try:
                steps.append(self._plan(record))
            except PoisonRecordError:
                break
        if not any(steps):
            return [(record.topic, "ignored", None) for record in records[: len(steps)]]
        done: list[tuple[str, str, float | None]] = []
        with _new_scratch():
            async with self.pool.acquire() as conn, conn.transaction():
                claims = [step.claim for step in steps if step is not None and step.claim is not None]
                fresh = await inbox.claim_all(conn, consumer=self.consumer, claims=claims)
                for record, step in zip(records, steps, strict=False):  # up to the first poison record
                    if step is None:
                        done.append((record.topic, "ignored", None))
                        continue
                    with self._span(record, step.headers) as span:
                        started = time.perf_counter()
                        try:
                            outcome = await step.after_claim(conn, fresh)
                        except Exception as error:
                            span.set_attribute("backbone.outcome", "retried alone")
                            # Poison is the one-by-one path's to dead-letter; an outage spends no attempt.
                            failed = not isinstance(error, (PoisonRecordError, *OUTAGES))
                            raise _StoppedAt(len(done), handler_failed=failed) from error
                        seconds = time.perf_counter() - started
                        span.set_attribute("backbone.outcome", outcome)
                    done.append((record.topic, outcome, seconds))
        return done

    def _plan(self, record: ConsumerRecord[bytes, bytes]) -> _Step | None:
        """How to apply a record (None: this consumer has no business with it); PoisonRecordError if it cannot be."""
        record_handler = self._record_handlers.get(record.topic)
        if record_handler is not None:

            async def apply_record(conn: Connection) -> str:
                await record_handler(conn, record)
                return "applied"

            return _Step(_lenient_headers(record), apply_record)
        try:
            received = decode(record)
        except NewerEventError as newer:
            if newer.event_type not in self._newer_types:
                self._newer_types.add(newer.event_type)
                log.warning(
                    "%s: a newer version of its producer publishes %s, which this version does not know; it is left "
                    "be (the ledger keeps it). Upgrade this service to act on it.",
                    self.consumer,
                    newer.event_type,
                )
            return None
        handler = self._handlers.get(type(received.event))
        if handler is None:
            if not involvement.involves(received.event):
                return None
            handler = _nothing_more  # claimed all the same, for the involvement it records

        async def apply_claimed(conn: Connection) -> str:
            await involvement.record(conn, received.event)
            await handler(conn, received)
            return "applied"

        return _Step(received.headers, apply_claimed, inbox.Claim(received.envelope, received.position))

    def on_records(self, topic: str, handler: RecordHandler) -> None:
        """Hand every record of `topic` to `handler` undecoded (an ingress topic that agency systems write).

        The handler validates the record itself and raises PoisonRecordError for one that must be
        dead-lettered; it is responsible for its own idempotency (there is no inbox row, since an
        ingress record has no event id the backbone can trust before the handler has checked it).
        """
        self._record_handlers[topic] = handler

    async def process(self, record: ConsumerRecord[bytes, bytes], *, failures: int = 0) -> str:
        """Apply, skip or dead-letter one record on its own; returns what happened. Never raises but to cancel."""
        try:
            step = self._plan(record)
        except PoisonRecordError as poison:
            await self._dead_letter(record, poison, attempts=0)
            self.metrics.consumed(record.topic, "dead-lettered")
            return "dead-lettered"
        if step is None:  # a type of this topic that this consumer has no business with
            self.stats.ignored += 1
            self.metrics.consumed(record.topic, "ignored")
            return "ignored"
        with self._span(record, step.headers) as span:
            outcome = await self._apply_with_retries(record, step, failures=failures)
            span.set_attribute("backbone.outcome", outcome)
            if outcome == "dead-lettered":
                span.set_status(StatusCode.ERROR)
                self.metrics.consumed(record.topic, outcome)
            return outcome

    async def rehearse(self, record: ConsumerRecord[bytes, bytes]) -> Rehearsal:
        """What `process` would do with the record now, found by applying it once, exactly as `process` does,
        in a transaction that is then rolled back: nothing is written, nothing is dead-lettered, nothing
        retried. An outage (database unreachable) raises, because it says nothing about the record."""
        try:
            step = self._plan(record)
        except PoisonRecordError as poison:
            return Rehearsal("poison", f"{poison.reason}: {poison.detail}")
        if step is None:
            return Rehearsal("ignored", "this consumer has no handler for its type")
        with _new_scratch():
            async with self.pool.acquire() as conn:
                transaction = conn.transaction()
                await transaction.start()
                try:
                    outcome = await step.alone(conn, consumer=self.consumer)
                except PoisonRecordError as poison:
                    return Rehearsal("poison", f"{poison.reason}: {poison.detail}")
                except OUTAGES:
                    raise
                except Exception as error:  # noqa: BLE001 - the handler's failure is the answer
                    return Rehearsal("would fail", f"{type(error).__name__}: {error}")
                finally:
                    await transaction.rollback()
        return Rehearsal("already applied" if outcome == "duplicate" else "would apply")

    @contextlib.contextmanager
    def _span(self, record: ConsumerRecord[bytes, bytes], headers: dict[str, str]) -> Iterator[Span]:
        """The CONSUMER span of one record, a child of the producer's span from the record's traceparent; every
        line logged meanwhile (a retry, a dead letter, a handler's own) names the record and the trace."""
        with (
            self.tracer.start_as_current_span(
                f"{record.topic} process",
                context=context_from_headers(headers),
                kind=SpanKind.CONSUMER,
                attributes={
                    "messaging.system": "kafka",
                    "messaging.destination.name": record.topic,
                    "messaging.consumer.group.name": self.consumer,
                    "messaging.kafka.offset": record.offset,
                    "messaging.message.id": headers.get("ce_id", ""),
                    "cloudevents.event_type": headers.get("ce_type", ""),
                },
            ) as span,
            logs.about_record(
                consumer=self.consumer,
                topic=record.topic,
                partition=record.partition,
                offset=record.offset,
                **logs.event_ids(headers),  # the trace's ids are the span's, current inside the block
            ),
        ):
            yield span

    async def _apply_with_retries(self, record: ConsumerRecord[bytes, bytes], step: _Step, *, failures: int = 0) -> str:
        outages = 0
        while True:
            started = time.perf_counter()
            try:
                with _new_scratch():
                    async with self.pool.acquire() as conn, conn.transaction():
                        outcome = await step.alone(conn, consumer=self.consumer)
            except PoisonRecordError as poison:  # the handler found the record unprocessable
                await self._dead_letter(record, poison, attempts=failures + 1)
                return "dead-lettered"
            except OUTAGES as error:
                outages += 1
                delay = self._backoff(outages)
                log.warning(
                    "%s: %s while applying %s[%d]@%d; retrying in %.1fs",
                    self.consumer,
                    type(error).__name__,
                    record.topic,
                    record.partition,
                    record.offset,
                    delay,
                )
            except Exception as error:  # noqa: BLE001 - any handler failure is retried, then dead-lettered
                failures += 1
                if failures >= self.settings.max_attempts:
                    detail = f"{type(error).__name__}: {error}"
                    await self._dead_letter(record, PoisonRecordError(PoisonReason.HANDLER_FAILED, detail), failures)
                    return "dead-lettered"
                delay = self._backoff(failures)
                log.warning(
                    "%s: handler failed for %s[%d]@%d (%s), attempt %d of %d",
                    self.consumer,
                    record.topic,
                    record.partition,
                    record.offset,
                    type(error).__name__,
                    failures,
                    self.settings.max_attempts,
                )
            else:
                if outcome == "duplicate":
                    self.stats.duplicates += 1
                else:
                    self.stats.applied += 1
                self.metrics.consumed(record.topic, outcome, time.perf_counter() - started)
                return outcome
            self.stats.retries += 1
            await asyncio.sleep(delay)

    async def _dead_letter(
        self, record: ConsumerRecord[bytes, bytes], poison: PoisonRecordError, attempts: int
    ) -> None:
        headers = dead_letter_headers(
            record, consumer=self.consumer, reason=poison.reason, detail=poison.detail, attempts=attempts
        )
        outages = 0
        while True:  # the dead letter must be safely in Kafka before the offset moves past the record
            try:
                await self.producer.send_and_wait(
                    self.dead_letter_topic, value=record.value, key=record.key, headers=headers
                )
                break
            except Exception as error:  # noqa: BLE001 - Kafka unreachable: wait, the record must not be lost
                outages += 1
                log.warning("%s: dead-letter publish failed (%s); retrying", self.consumer, type(error).__name__)
                await asyncio.sleep(self._backoff(outages))
        self.stats.dead_lettered += 1
        self.metrics.dead_letters.labels(topic=record.topic).inc()
        log.error(
            "%s: dead-lettered %s[%d]@%d: %s",
            self.consumer,
            record.topic,
            record.partition,
            record.offset,
            poison.reason,
        )

    def _backoff(self, attempt: int) -> float:
        return float(min(self.settings.retry_base_seconds * 2 ** (attempt - 1), self.settings.retry_max_seconds))


async def _nothing_more(conn: Connection, received: Received[Event]) -> None:
    """The handler of an event a service consumes only for whom it involves in its case."""


async def _commit_past(consumer: Any, records: list[ConsumerRecord[bytes, bytes]]) -> None:
    """Commit the group's offsets past the batch's records, for the batch's own partitions only.

    `commit()` without offsets (what FastStream's ack does) would send every assigned partition's position, and
    audit is assigned every partition of every topic: encoding and reading that answer cost ~100 µs a batch.
    """
    past = {TopicPartition(r.topic, r.partition): r.offset + 1 for r in records}  # a partition's last record wins
    # A partition taken away by a rebalance meanwhile is its new owner's to commit (the inbox makes its
    # redelivered events no-ops), as it was when every assigned partition's position was committed.
    assigned = consumer.assignment()
    if mine := {partition: offset for partition, offset in past.items() if partition in assigned}:
        await consumer.commit(mine)


def _raw_batch(records: tuple[ConsumerRecord[bytes, bytes], ...], *, consumer: Any) -> KafkaAckableMessage:
    return KafkaAckableMessage(
        body=records,
        headers={},
        batch_headers=[],
        raw_message=records,
        consumer=consumer,
        message_id=(
            message_id := f"{records[0].topic}-{records[0].partition}-{records[0].offset}" if records else "empty"
        ),
        correlation_id=message_id,  # FastStream would make a uuid4 for it
    )


async def _undecoded(message: KafkaAckableMessage) -> KafkaAckableMessage:
    return message


def _lenient_headers(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    """Headers for tracing only: a value that is not UTF-8 is replaced, never trusted."""
    return {name: value.decode("utf-8", errors="replace") for name, value in record.headers}
