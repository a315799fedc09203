"""Background work that must outlive any outage: one step at a time, forever, until cancelled.

A step returns how much it did. When it did nothing the loop idles (sleeps, or waits to be woken);
when it fails (the database or Kafka unreachable) the loop backs off, capped, and tries again. The work
itself waits safely where it is — outbox rows, timers, deliveries — so giving up is never right.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import Any, TypeVar

import asyncpg

log = logging.getLogger(__name__)
T = TypeVar("T")


async def keep_running(
    name: str,
    step: Callable[[], Awaitable[int]],
    *,
    idle: Callable[[], Awaitable[None]],
    busy_below: int = 1,
    backoff_base: float = 0.5,
    backoff_max: float = 3.0,
) -> None:
    """Run `step` until cancelled; `idle()` after a step that did less than `busy_below` units of work.

    A failing step is tried again after a backoff capped at `backoff_max`: a few seconds, so that the loop finds
    a healed dependency within them, with one try per cap meanwhile."""
    failures = 0
    while True:
        try:
            done = await step()
        except Exception as error:  # noqa: BLE001 - see the module docstring
            failures += 1
            delay = min(backoff_base * 2**failures, backoff_max)
            log.warning("%s failed (%s: %s); retrying in %.1fs", name, type(error).__name__, error, delay)
            await asyncio.sleep(delay)
            continue
        failures = 0
        if done < busy_below:
            await idle()


async def uninterrupted(work: Coroutine[Any, Any, T]) -> T:
    """Run `work` to its end even when the caller is cancelled meanwhile, then pass the cancellation on.

    For a step whose effect outside cannot be taken back, such as an e-mail the SMTP server has accepted:
    a graceful stop (SIGTERM) that cut the step short would roll back the record of the send, and the
    message would go out again after the restart. The step must be bounded (send timeouts bound it).
    """
    task = asyncio.ensure_future(work)
    interrupted = False
    while not task.done():
        try:
            await asyncio.wait([task])  # unlike awaiting the task, a cancelled wait leaves the task running
        except asyncio.CancelledError:
            interrupted = True
    if interrupted:
        if not task.cancelled() and task.exception() is not None:
            log.warning("work finished during shutdown with %s", type(task.exception()).__name__)
        raise asyncio.CancelledError
    return task.result()


class Wakeup:
    """An idle loop's wait: until PostgreSQL delivers a NOTIFY on `channel`, or `poll_seconds` pass.

    NOTIFY is sent when the writing transaction commits, so the loop wakes exactly when there is new work
    to see. The poll stays as the fallback: a lost listening connection costs latency, never work.
    """

    def __init__(self, pool: asyncpg.Pool, channel: str, poll_seconds: float) -> None:
        self.pool = pool
        self.channel = channel
        self.poll_seconds = poll_seconds
        self._event = asyncio.Event()

    @contextlib.asynccontextmanager
    async def listening(self) -> AsyncIterator[None]:
        """LISTEN on a connection of its own for as long as the loop runs; without it, polling still works."""
        try:
            conn = await self.pool.acquire()
        except (asyncpg.PostgresError, OSError) as error:
            log.warning("%s: polling only, cannot LISTEN (%s)", self.channel, type(error).__name__)
            yield
            return

        def wake(*_: object) -> None:
            self._event.set()

        await conn.add_listener(self.channel, wake)
        try:
            yield
        finally:
            with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):  # a lost connection
                await conn.remove_listener(self.channel, wake)
            await self.pool.release(conn)

    async def wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout=self.poll_seconds)
        self._event.clear()
