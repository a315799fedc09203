"""Background work that must outlive any outage: one step at a time, forever, until cancelled.

A step returns how much it did. When it did nothing the loop idles (sleeps, or waits to be woken);
when it fails (the database or Kafka unreachable) the loop backs off, capped, and tries again. The work
itself waits safely where it is — outbox rows, timers, deliveries — so giving up is never right.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


async def keep_running(
    name: str,
    step: Callable[[], Awaitable[int]],
    *,
    idle: Callable[[], Awaitable[None]],
    busy_below: int = 1,
    backoff_base: float = 0.5,
    backoff_max: float = 30.0,
) -> None:
    """Run `step` until cancelled; `idle()` after a step that did less than `busy_below` units of work."""
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
