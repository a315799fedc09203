"""The chain as a consumed batch appends to it: one lock and one head per transaction, shared by its appends,
with other writers' transactions in between, and repeats that leave the head where it was."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from backbone.settings import DatabaseSettings
from services.audit import ledger
from services.audit.ledger import Entry, Signer

MIGRATION = (Path(__file__).parents[2] / "services" / "audit" / "migrations" / "001_ledger.sql").read_text()
SIGNER = Signer.with_new_key()


def entry(number: int, event_id: str | None = None) -> Entry:
    headers = [("ce_id", (event_id or str(uuid.uuid4())).encode()), ("ce_type", b"jp.fujisawa.welfare.t.v1")]
    return Entry("t.events.v1", 0, number, headers, b"k", f'{{"n": {number}}}'.encode())


@pytest.fixture
async def schema(tests_database: DatabaseSettings) -> AsyncIterator[tuple[str, str]]:
    name = f"chain_{uuid.uuid4().hex[:8]}"
    dsn = tests_database.dsn.get_secret_value()
    conn = await asyncpg.connect(dsn)
    await conn.execute(f"CREATE SCHEMA {name}; SET search_path = {name}")
    await conn.execute(MIGRATION)
    yield dsn, name
    await conn.execute(f"DROP SCHEMA {name} CASCADE")
    await conn.close()


async def connect(schema: tuple[str, str]) -> asyncpg.Connection:
    dsn, name = schema
    return await asyncpg.connect(dsn, server_settings={"search_path": name})


async def test_a_batch_shares_its_head_and_a_repeat_leaves_it(schema: tuple[str, str]) -> None:
    conn = await connect(schema)
    try:
        kept: dict[str, Any] = {}
        repeated = str(uuid.uuid4())
        async with conn.transaction():
            seqs = [
                await ledger.append(conn, SIGNER, entry(0, repeated), kept=kept),
                await ledger.append(conn, SIGNER, entry(1), kept=kept),
                await ledger.append(conn, SIGNER, entry(0, repeated), kept=kept),  # the same event again
                await ledger.append(conn, SIGNER, entry(2), kept=kept),
            ]
        assert seqs == [1, 2, None, 3]
        async with conn.transaction():  # a later transaction reads the head anew
            assert await ledger.append(conn, SIGNER, entry(0, repeated), kept={}) is None
            assert await ledger.append(conn, SIGNER, entry(3), kept={}) == 4
        assert await ledger.verify(conn, SIGNER.public) == []
    finally:
        await conn.close()


async def test_a_rolled_back_batch_leaves_no_trace_and_the_next_one_chains_on(schema: tuple[str, str]) -> None:
    conn = await connect(schema)
    try:
        async with conn.transaction():
            await ledger.append(conn, SIGNER, entry(0), kept={})
        kept: dict[str, Any] = {}
        with pytest.raises(RuntimeError):
            async with conn.transaction():
                await ledger.append(conn, SIGNER, entry(1), kept=kept)
                raise RuntimeError("the batch failed")
        async with conn.transaction():  # the kit gives a new try an empty scratch
            assert await ledger.append(conn, SIGNER, entry(1), kept={}) == 2
        assert await ledger.verify(conn, SIGNER.public) == []
    finally:
        await conn.close()


async def test_writers_appending_batches_at_once_keep_one_unbroken_chain(schema: tuple[str, str]) -> None:
    writers = [await connect(schema) for _ in range(3)]

    async def batches(conn: asyncpg.Connection, writer: int) -> None:
        for batch in range(8):
            kept: dict[str, Any] = {}
            async with conn.transaction():
                for number in range(5):
                    await ledger.append(conn, SIGNER, entry(writer * 1000 + batch * 10 + number), kept=kept)

    try:
        await asyncio.wait_for(asyncio.gather(*(batches(conn, n) for n, conn in enumerate(writers))), timeout=60)
        assert await writers[0].fetchval("SELECT count(*) FROM ledger") == 3 * 8 * 5
        assert await ledger.verify(writers[0], SIGNER.public) == []
    finally:
        for conn in writers:
            await conn.close()
