"""A consumer takes a record as soon as aiokafka has fetched it: after a poll that found nothing, FastStream's batch
subscriber slept as long as the poll had waited, and a record fetched meanwhile waited the sleep out, on every hop
of a consultation's way. The kit's subscriber polls again at once (`backbone.kafka.PromptBatchSubscriber`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiokafka import TopicPartition
from aiokafka.errors import ConsumerStoppedError
from aiokafka.structs import ConsumerRecord
from faststream.kafka.subscriber.usecase import BatchSubscriber
from opentelemetry import trace

from backbone.delivery import Subscription
from backbone.kafka import PromptBatchSubscriber, create_broker, prompt
from backbone.settings import DeliverySettings, KafkaSettings

POLL_MS = 5_000  # far longer than any test waits: a sleep after the empty poll would show as a timeout


def record(topic: str, partition: int, offset: int) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(topic, partition, offset, 0, 0, b"k", b"v", None, 1, 1, [])


class Consumer:
    """aiokafka's `getmany` as the subscriber meets it: the polls' answers in turn (the first empty: its timeout
    ran out), each returned at once."""

    def __init__(self, *answers: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] | Exception) -> None:
        self.answers = list(answers)
        self.asked: list[tuple[int, int | None]] = []

    async def getmany(
        self, *, timeout_ms: int, max_records: int | None
    ) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
        self.asked.append((timeout_ms, max_records))
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


def kit_subscriber() -> Any:
    subscription = Subscription(
        "tests",
        ["intake.events.v1"],
        pool=None,  # type: ignore[arg-type]
        producer=None,  # type: ignore[arg-type]
        settings=DeliverySettings(poll_timeout_ms=POLL_MS),
        tracer=trace.get_tracer("t"),
    )
    subscription.register(create_broker(KafkaSettings(), "tests"), batch_size=7)
    return subscription._subscriber


def test_the_kit_consumes_through_the_prompt_subscriber() -> None:
    subscriber = kit_subscriber()
    assert type(subscriber) is PromptBatchSubscriber
    assert (subscriber.batch_timeout_ms, subscriber.max_records) == (POLL_MS, 7)  # FastStream's own settings kept


async def test_after_an_empty_poll_the_next_poll_follows_at_once_and_its_records_come_in_partition_order() -> None:
    first, second = TopicPartition("t", 0), TopicPartition("t", 3)
    consumer = Consumer({}, {first: [record("t", 0, 5), record("t", 0, 6)], second: [record("t", 3, 1)]})
    subscriber = kit_subscriber()
    async with asyncio.timeout(2):  # FastStream's own subscriber would sleep 5 s after the empty poll
        assert await subscriber.get_msg(consumer) == ()
        batch = await subscriber.get_msg(consumer)
    assert [(r.partition, r.offset) for r in batch] == [(0, 5), (0, 6), (3, 1)]
    assert consumer.asked == [(POLL_MS, 7), (POLL_MS, 7)]


async def test_a_stopped_consumer_still_ends_the_loop() -> None:
    # FastStream's loop returns on ConsumerStoppedError: the error must reach it, not be swallowed here.
    with pytest.raises(ConsumerStoppedError):
        await kit_subscriber().get_msg(Consumer(ConsumerStoppedError()))


async def test_faststreams_own_subscriber_still_sleeps_after_an_empty_poll() -> None:
    """The reason for the subclass, pinned on the FastStream installed: when this fails, FastStream no longer
    sleeps, and `PromptBatchSubscriber` can go."""
    subscriber = kit_subscriber()
    subscriber.__class__ = BatchSubscriber
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(0.5):
            await subscriber.get_msg(Consumer({}))


def test_only_a_batch_subscriber_is_made_prompt() -> None:
    broker = create_broker(KafkaSettings(), "tests")
    with pytest.raises(TypeError, match="batch subscriber"):
        prompt(broker.subscriber("intake.events.v1", group_id="tests"))
