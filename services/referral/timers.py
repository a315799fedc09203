"""Durable deadline timers: rows in referral_timers, fired by a loop the service's lifespan owns.

Several instances may run the loop: FOR UPDATE SKIP LOCKED hands each due timer to one of them, and the
timer is marked fired in the same transaction as the events it writes, so it fires exactly once even
when an instance dies half-way (its transaction rolls back and another instance fires it).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg
from opentelemetry import trace

from backbone.loops import keep_running
from backbone.telemetry import context_from_headers
from services.referral.casework import Casework


class DeadlineTimers:
    def __init__(
        self,
        pool: asyncpg.Pool,
        casework: Casework,
        *,
        clock: Callable[[], datetime] | None = None,
        tracer: trace.Tracer | None = None,
    ) -> None:
        self.pool = pool
        self.casework = casework
        self.tracer = tracer or trace.get_tracer("backbone.referral")
        self.clock = clock or (lambda: datetime.now(UTC))
        self.fired = 0

    async def run(self) -> None:
        await keep_running("deadline timers", self.fire_due, idle=self._idle)

    async def _idle(self) -> None:
        await asyncio.sleep(self.casework.policy.timer_poll_seconds)

    async def fire_due(self, *, limit: int = 100) -> int:
        """Fire every timer due by now (at most `limit`); returns how many fired."""
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            store = self.casework.on(conn)
            timers = await store.due_timers(now, limit=limit)
            for due in timers:
                # The firing continues the trace the deadline was set in, so its events and lines lead back to it.
                with self.tracer.start_as_current_span(
                    f"referral {due.timer.kind} deadline",
                    context=context_from_headers({"traceparent": due.traceparent or ""}),
                    attributes={"backbone.referral_id": str(due.referral_id)},
                ):
                    await self.casework.fire(store, due, now=now)
        self.fired += len(timers)
        return len(timers)
