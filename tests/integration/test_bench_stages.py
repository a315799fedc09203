"""The benchmark's kit stages do what their figures claim: P2 applies every event once through the inbox, and A1
appends every record to a ledger that verifies (the stage checks its chain and signatures before it answers).
Small volumes: these prove the stages, and `backbone bench` measures them."""

from __future__ import annotations

import asyncpg

from backbone.settings import DatabaseSettings
from devtools.bench import stages


async def test_p2_and_a1_apply_every_event_and_leave_nothing_behind(
    bootstrap: str, tests_database: DatabaseSettings
) -> None:
    dsn = tests_database.dsn.get_secret_value()
    before = await _bench_schemas(dsn)
    assert await stages.relay_and_consume(dsn, bootstrap, 300) > 0
    assert await stages.relay_and_record(dsn, bootstrap, 300) > 0
    assert await _bench_schemas(dsn) == before  # each stage works in a schema of its own and drops it


async def _bench_schemas(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        return {
            row["nspname"] for row in await conn.fetch("SELECT nspname FROM pg_namespace WHERE nspname LIKE 'bench%'")
        }
    finally:
        await conn.close()
