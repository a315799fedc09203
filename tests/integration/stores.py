"""The services' tables in the tests database, and the contract suites' one fixture: each test of a store's
contract runs against the service's fake and against its real PostgreSQL store, the latter in a transaction that
is rolled back afterwards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from backbone.db import Connection, migrate
from backbone.outbox import Outbox

SERVICES = Path(__file__).parents[2] / "services"
# What earlier runs left in the tests database that a test must not find due: no running service fires or sends.
LEFTOVERS = {
    "referral": "UPDATE referral_timers SET fired_at = now() WHERE fired_at IS NULL",
    "notify": "UPDATE deliveries SET state = 'failed' WHERE state = 'pending'",
    "meetings": "UPDATE plans SET review_fired_at = now() WHERE review_fired_at IS NULL",
    "intake": "SELECT 1",  # intake fires and sends nothing of its own
}


async def with_tables(pool: asyncpg.Pool, service: str) -> asyncpg.Pool:
    """The service's tables in the tests database of `pool`, migrated, with earlier runs' work put to rest."""
    await migrate(pool, service, SERVICES / service / "migrations")
    await pool.execute(LEFTOVERS[service])
    return pool


async def schema_pool(dsn: str, schema: str) -> asyncpg.Pool:
    """A pool whose connections see only `schema` of the tests database (and the catalog), created if missing: for a
    service whose tables share names with another's (intake's cases and consents with referral's and meetings')."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
    finally:
        await conn.close()
    pool = await asyncpg.create_pool(dsn=dsn, min_size=1, max_size=2, server_settings={"search_path": schema})
    if pool is None:  # asyncpg's typing allows it; it never happens with a dsn
        raise RuntimeError("asyncpg returned no pool")
    return pool


async def fake_and_real(
    request: pytest.FixtureRequest,
    pool: asyncpg.Pool,
    fake: Callable[[], Any],
    real: Callable[[Connection, Outbox], Any],
    *,
    service: str,
) -> AsyncIterator[Any]:
    """Yield the fake when the fixture's param is "fake"; otherwise the real store over the service's tables, in a
    transaction rolled back when the test ends. The fixture names the store's protocol as its type; the fakes are
    held to it wherever casework is typed against it."""
    if request.param == "fake":
        yield fake()
        return
    async for each in real_store(pool, real, service=service):
        yield each


async def real_store(
    pool: asyncpg.Pool, real: Callable[[Connection, Outbox], Any], *, service: str
) -> AsyncIterator[Any]:
    """Yield the real store over the service's tables, in a transaction rolled back when the test ends."""
    await with_tables(pool, service)
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        try:
            yield real(conn, Outbox(source="/tests/store"))
        finally:
            await transaction.rollback()
