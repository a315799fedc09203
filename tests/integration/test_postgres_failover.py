"""PostgreSQL's primary killed under writes, on the local pair that pg_auto_failover keeps (devtools/local/
ha_postgres.py): no write the client saw committed is lost, the kit's pool finds the promoted standby by itself
through the multi-host DSN, and the old primary, started again, rejoins as the new primary's synchronous standby.

The pair runs on ports of its own (55450–55452), beside the single server the other tests use."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import asyncpg
import pytest

from backbone.db import create_pool
from backbone.settings import DatabaseSettings
from devtools.local.ha_postgres import LocalHaPostgres
from devtools.local.paths import LocalPaths
from devtools.local.postgres import LocalSecrets

pytestmark = pytest.mark.failover

WRITES_BEFORE_THE_KILL = 100
WRITES_AFTER_THE_PROMOTION = 100


@pytest.fixture(scope="module")
def pair() -> Iterator[LocalHaPostgres]:
    ha = LocalHaPostgres(LocalPaths.default(), monitor_port=55450, node_ports=(55451, 55452))
    ha.start(lambda _line: None)
    yield ha
    ha.stop()


async def test_a_killed_primary_loses_no_acknowledged_commit_and_the_pool_carries_on(pair: LocalHaPostgres) -> None:
    secrets = LocalSecrets.load_or_create(pair.paths.secrets)
    pool = await create_pool(DatabaseSettings(dsn=pair.dsn("tests", secrets), pool_max=2))
    try:
        async with pool.acquire() as conn:
            await conn.execute("CREATE TABLE IF NOT EXISTS failover_writes (n bigint PRIMARY KEY)")
            await conn.execute("TRUNCATE failover_writes")
        acknowledged: list[int] = []
        killed_at: float | None = None
        resumed_at: float | None = None
        victim = pair.primary()
        deadline = time.monotonic() + 120  # bounded, whatever happens
        n = 0
        while time.monotonic() < deadline:
            n += 1
            try:
                async with pool.acquire(timeout=5) as conn:
                    await conn.execute("INSERT INTO failover_writes (n) VALUES ($1)", n, timeout=5)
            except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                await asyncio.sleep(0.1)  # not acknowledged: it may or may not have committed, and need not be kept
                continue
            acknowledged.append(n)
            if killed_at is None and len(acknowledged) == WRITES_BEFORE_THE_KILL:
                assert victim is not None
                await asyncio.to_thread(pair.crash, victim)
                killed_at = time.monotonic()
            elif killed_at is not None and resumed_at is None:
                resumed_at = time.monotonic()
            if killed_at is not None and len(acknowledged) >= WRITES_BEFORE_THE_KILL + WRITES_AFTER_THE_PROMOTION:
                break
        assert killed_at is not None and resumed_at is not None, "writes never resumed after the primary was killed"
        new_primary = pair.primary()
        assert new_primary not in (None, victim)
        async with pool.acquire() as conn:
            kept = {row["n"] for row in await conn.fetch("SELECT n FROM failover_writes")}
        assert [n for n in acknowledged if n not in kept] == []  # RPO 0
        print(f"\nwrites resumed {resumed_at - killed_at:.1f}s after the primary was killed")
    finally:
        await pool.close()

    await asyncio.to_thread(pair.rejoin, victim)
    await asyncio.to_thread(pair.wait_until, pair.replicating, within=120, what="the old primary to rejoin")
    standby_dsn = pair.dsn("tests", secrets).replace("target_session_attrs=read-write", "target_session_attrs=standby")
    standby = await asyncpg.connect(standby_dsn)
    try:
        assert await standby.fetchval("SELECT pg_is_in_recovery()")
        for _ in range(100):  # the standby has every commit flushed; replaying them may take a moment
            rejoined = {row["n"] for row in await standby.fetch("SELECT n FROM failover_writes")}
            if set(acknowledged) <= rejoined:
                break
            await asyncio.sleep(0.2)
        assert set(acknowledged) <= rejoined  # the rewound node follows the new primary's history
    finally:
        await standby.close()
