"""A delivery's deadline against its endpoint's breaker: while the breaker is open a delivery rests without
trying, and at its deadline it gets a last try of its own, so that a dead endpoint fails visibly in time however
many deliveries queue behind its single probe."""

from __future__ import annotations

import socket
import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from opentelemetry.sdk.trace import TracerProvider

from backbone import directory
from backbone.outbox import Outbox
from schemas.vocabulary import Urgency
from services.notify.deliveries import Dispatcher, Notifier
from services.notify.lifecycle import Delivery, Refused, Resting
from services.notify.settings import NotifySettings
from services.notify.store import Due, Message

NOW = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)


def closed_port() -> int:
    """A loopback port nothing listens on: a connection there is refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


@pytest.fixture
async def dispatcher() -> AsyncIterator[Dispatcher]:
    notifier = Notifier(NotifySettings(), directory.load(), Outbox(source="/notify"), b"k" * 32)
    dispatcher = Dispatcher(pool=None, notifier=notifier, tracer=TracerProvider().get_tracer("t"))  # type: ignore[arg-type]
    yield dispatcher
    await dispatcher.http.aclose()


def due(url: str, give_up_at: datetime) -> Due:
    delivery = Delivery(
        uuid.uuid4(),
        uuid.uuid4(),
        uuid.uuid4(),
        "referral-proposed",
        "ikiiki-chogo",
        "primary",
        "webhook",
        Urgency.URGENT,
        attempts=1,
        give_up_at=give_up_at,
    )
    return Due(delivery, Message(url, "p-1", "ja", "件名", "本文", None), None, NOW)


async def test_behind_an_open_breaker_a_delivery_rests_until_its_deadline_and_then_is_tried(
    dispatcher: Dispatcher,
) -> None:
    url = f"http://127.0.0.1:{closed_port()}/hook"
    for _ in range(dispatcher.notifier.settings.breaker_failures):
        dispatcher.breakers.record(url, ok=False, now=time.monotonic())
    deadline = NOW + timedelta(minutes=10)

    assert await dispatcher._send(due(url, deadline), NOW) == Resting()
    last_try = await dispatcher._send(due(url, deadline), deadline)
    assert isinstance(last_try, Refused) and "webhook" in last_try.error
