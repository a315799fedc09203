"""A record key's events are stamped in the order they commit (backbone/keylocks.py): a second writer of a case
waits for the first to commit, writers of other cases do not, and the outbox numbers the case's rows in the order
of their times, which is the order the relay publishes them in."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from backbone import keylocks
from backbone.outbox import Outbox
from schemas.envelope import Envelope
from tests.integration.kit import consultation

OUTBOX = Outbox("/tests/key-order")


async def test_a_second_writer_of_a_case_waits_for_the_first_to_commit_and_the_case_keeps_its_order(
    pool: asyncpg.Pool,
) -> None:
    case = uuid.uuid4()

    async def second_writer() -> Envelope:
        # Another agency's consultation: the same agency's would wait on the first's involvement row instead.
        another = consultation(case).model_copy(update={"receiving_agency": "chiku-fukushi-fujisawa"})
        async with pool.acquire() as conn, conn.transaction():
            return await OUTBOX.add(conn, another)

    try:
        async with pool.acquire() as first:
            transaction = first.transaction()
            await transaction.start()
            earlier = await OUTBOX.add(first, consultation(case))
            later = asyncio.create_task(second_writer())
            await asyncio.sleep(0.5)
            assert not later.done(), "the second writer of the case went ahead while the first was uncommitted"
            async with pool.acquire() as other, other.transaction():  # another case's writer does not wait
                await asyncio.wait_for(OUTBOX.add(other, consultation()), timeout=5)
            await transaction.commit()
        written_later = await asyncio.wait_for(later, timeout=10)
        rows = await pool.fetch("SELECT event_id FROM outbox WHERE record_key = $1 ORDER BY seq", str(case))
        assert [row["event_id"] for row in rows] == [earlier.id, written_later.id]
        assert earlier.time < written_later.time
    finally:
        await pool.execute("DELETE FROM outbox WHERE headers->>'ce_source' = $1", OUTBOX.source)


async def test_a_transaction_holding_several_cases_and_one_holding_them_in_another_order_do_not_deadlock(
    pool: asyncpg.Pool,
) -> None:
    """Two dispatchers' batches of the same cases, listed in opposite orders: each takes its locks sorted, so one
    waits for the other instead of each holding a case the other needs."""
    cases = [str(uuid.uuid4()) for _ in range(20)]

    async def batch(order: list[str]) -> None:
        async with pool.acquire() as conn, conn.transaction():
            await keylocks.hold(conn, *order)
            await asyncio.sleep(0.05)

    await asyncio.wait_for(asyncio.gather(*(batch(cases if i % 2 else cases[::-1]) for i in range(6))), timeout=20)
