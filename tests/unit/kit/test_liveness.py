"""Liveness: a consumer whose group coordinator has died can never consume again, and `/health` says so (503), so
that the orchestrator restarts the process; a consumer that is starting, running or stopping is alive."""

from __future__ import annotations

import asyncio
import inspect
from types import SimpleNamespace
from typing import Any

import httpx
from aiokafka import AIOKafkaConsumer
from aiokafka.consumer.group_coordinator import GroupCoordinator
from fastapi import FastAPI
from opentelemetry import trace

from backbone.delivery import Subscription
from backbone.http import health_router
from backbone.settings import DeliverySettings


def subscription_with(consumer: object) -> Subscription:
    sub = Subscription(
        "tests",
        ["t"],
        pool=None,
        producer=None,
        settings=DeliverySettings(),
        tracer=trace.get_tracer("t"),  # type: ignore[arg-type]
    )
    sub._subscriber = SimpleNamespace(consumer=consumer)
    return sub


def consumer_whose_coordinator(task: asyncio.Future[Any] | None, *, closed: bool = False) -> object:
    return SimpleNamespace(_coordinator=SimpleNamespace(_coordination_task=task), _closed=closed)


async def test_a_consumer_whose_coordinator_died_is_not_alive_and_one_running_or_stopping_is() -> None:
    died: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    died.set_exception(RuntimeError("unable to perform operation on <TCPTransport closed=True>"))
    died.exception()  # retrieved, as aiokafka's check_errors does
    running: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

    assert not subscription_with(consumer_whose_coordinator(died)).consuming()
    assert subscription_with(consumer_whose_coordinator(running)).consuming()
    assert subscription_with(consumer_whose_coordinator(died, closed=True)).consuming()  # stopping: not dead
    assert subscription_with(consumer_whose_coordinator(None)).consuming()  # before the group's first join
    assert subscription_with(None).consuming()  # not started
    running.cancel()


def test_the_private_names_the_check_reads_are_still_aiokafka_s() -> None:
    # If an aiokafka upgrade renames them, the check would quietly say "alive" forever: update Subscription.consuming.
    assert "self._coordinator = GroupCoordinator(" in inspect.getsource(AIOKafkaConsumer.start)
    assert "self._coordination_task = " in inspect.getsource(GroupCoordinator.__init__)
    assert "self._closed = True" in inspect.getsource(AIOKafkaConsumer.stop)


async def test_health_answers_503_when_the_process_cannot_consume_again() -> None:
    alive = True

    async def ready() -> dict[str, bool]:
        return {"database": True}

    app = FastAPI()
    app.include_router(health_router(ready, lambda: alive))
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as http:
        assert (await http.get("/health")).status_code == 200
        alive = False
        answer = await http.get("/health")
    assert answer.status_code == 503 and answer.json() == {"status": "consumer dead"}
