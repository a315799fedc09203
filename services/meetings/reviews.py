"""Plans come back (支援プランの見直し): a loop fires each confirmed plan's review when it falls due.

A plan's review falls due at 8:30 in Tokyo on its review date, or on the next business day
(`backbone.calendar.business_morning`). Firing proposes the review meeting and tells the plan's organizer
(`Casebook.plan_review_opened`), and marks the plan in the same transaction: several instances may run the
loop, and FOR UPDATE SKIP LOCKED hands each plan to one of them, so a review fires exactly once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import asyncpg

from backbone.loops import keep_running
from services.meetings.casebook import Casebook


class PlanReviews:
    def __init__(
        self,
        pool: asyncpg.Pool,
        book: Casebook,
        *,
        poll_seconds: float = 5.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.pool = pool
        self.book = book
        self.poll_seconds = poll_seconds
        self.clock = clock or (lambda: datetime.now(UTC))

    async def run(self) -> None:
        await keep_running("plan reviews", self.fire_due, idle=self._idle)

    async def _idle(self) -> None:
        await asyncio.sleep(self.poll_seconds)

    async def fire_due(self, *, limit: int = 50) -> int:
        """Fire every review due by now (at most `limit`); returns how many fired."""
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            store = self.book.on(conn)
            plans = await store.reviews_due(now, limit=limit)
            for plan in plans:
                await self.book.plan_review_opened(store, plan, now)
        return len(plans)
