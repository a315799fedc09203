"""Tampering directly in SQL, as someone with the database owner's rights would: each is caught by verify,
which names the row."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import asyncpg
import pytest

from backbone.settings import DatabaseSettings
from services.audit import ledger
from services.audit.ledger import Entry, Signer

MIGRATION = (Path(__file__).parents[2] / "services" / "audit" / "migrations" / "001_ledger.sql").read_text()
SIGNER = Signer.with_new_key()


@pytest.fixture
async def chain(tests_database: DatabaseSettings) -> AsyncIterator[asyncpg.Connection]:
    """A ledger of 6 events in a schema of its own, and a connection that can tamper with it."""
    schema = f"ledger_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(tests_database.dsn.get_secret_value())
    await conn.execute(f"CREATE SCHEMA {schema}")
    await conn.execute(f"SET search_path = {schema}")
    await conn.execute(MIGRATION)
    for number in range(6):
        headers = [("ce_id", str(uuid.uuid4()).encode()), ("ce_type", b"jp.fujisawa.welfare.test.thing.happened.v1")]
        async with conn.transaction():
            await ledger.append(
                conn, SIGNER, Entry("t.events.v1", 0, number, headers, b"k", f'{{"n": {number}}}'.encode())
            )
    assert await ledger.verify(conn, SIGNER.public) == []
    # What an attacker with the owner's rights does first: lift the refusals.
    await conn.execute("GRANT UPDATE, DELETE ON ledger TO CURRENT_USER")
    await conn.execute("ALTER TABLE ledger DISABLE TRIGGER ledger_append_only")
    yield conn
    await conn.execute(f"DROP SCHEMA {schema} CASCADE")
    await conn.close()


async def test_the_ledger_refuses_update_and_delete_as_it_stands(tests_database: DatabaseSettings) -> None:
    schema = f"ledger_{uuid.uuid4().hex[:8]}"
    conn = await asyncpg.connect(tests_database.dsn.get_secret_value())
    try:
        await conn.execute(f"CREATE SCHEMA {schema}; SET search_path = {schema}")
        await conn.execute(MIGRATION)
        async with conn.transaction():
            await ledger.append(conn, SIGNER, Entry("t", 0, 0, [("ce_id", b"x")], None, b"{}"))
        for statement in ("UPDATE ledger SET topic = 'x'", "DELETE FROM ledger", "TRUNCATE ledger"):
            with pytest.raises(asyncpg.PostgresError, match=r"append-only|permission denied"):
                await conn.execute(statement)
    finally:
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")
        await conn.close()


async def test_an_edited_row_is_named(chain: asyncpg.Connection) -> None:
    await chain.execute("UPDATE ledger SET canonical = replace(canonical::text, '3', '4')::bytea WHERE seq = 4")
    (finding,) = await ledger.verify(chain, SIGNER.public)
    assert finding.seq == 4 and "edited" in finding.problem


async def test_a_deleted_row_is_named(chain: asyncpg.Connection) -> None:
    await chain.execute("DELETE FROM ledger WHERE seq = 3")
    (finding,) = await ledger.verify(chain, SIGNER.public)
    assert finding.seq == 3 and "missing" in finding.problem


async def test_two_swapped_rows_are_named(chain: asyncpg.Connection) -> None:
    await chain.execute(
        "UPDATE ledger SET canonical = CASE seq WHEN 2 THEN (SELECT canonical FROM ledger WHERE seq = 5)"
        " ELSE (SELECT canonical FROM ledger WHERE seq = 2) END,"
        " event_hash = CASE seq WHEN 2 THEN (SELECT event_hash FROM ledger WHERE seq = 5)"
        " ELSE (SELECT event_hash FROM ledger WHERE seq = 2) END WHERE seq IN (2, 5)"
    )
    (finding,) = await ledger.verify(chain, SIGNER.public)
    assert finding.seq == 2


async def test_a_forged_row_with_recomputed_hashes_is_named_by_its_signature(chain: asyncpg.Connection) -> None:
    # The forger rewrites row 4 and re-chains everything after it, but cannot sign with the audit key.
    forger = Signer.with_new_key()
    rows = await chain.fetch("SELECT seq, prev_hash FROM ledger WHERE seq >= 4 ORDER BY seq")
    prev = rows[0]["prev_hash"]
    for row in rows:
        body = (
            b'{"forged": true}'
            if row["seq"] == 4
            else await chain.fetchval("SELECT canonical FROM ledger WHERE seq = $1", row["seq"])
        )
        event_hash = hashlib.sha256(body).hexdigest()
        chained = ledger.row_hash(row["seq"], prev, event_hash)
        await chain.execute(
            "UPDATE ledger SET canonical = $2, event_hash = $3, prev_hash = $4, row_hash = $5,"
            " signature = $6 WHERE seq = $1",
            row["seq"],
            body,
            event_hash,
            prev,
            chained,
            forger.sign(chained),
        )
        prev = chained
    (finding,) = await ledger.verify(chain, SIGNER.public)
    assert finding.seq == 4 and "forged" in finding.problem


async def test_a_truncated_tail_is_named_by_the_external_checkpoint(chain: asyncpg.Connection) -> None:
    async with chain.transaction():
        made = await ledger.checkpoint(chain, SIGNER)
    assert made is not None and made["seq"] == 6
    await chain.execute("DELETE FROM ledger WHERE seq >= 5")  # the last rows go, the chain before them is intact
    (finding,) = await ledger.verify(chain, SIGNER.public, [made])
    assert finding.seq == 6 and "checkpoint" in finding.problem
