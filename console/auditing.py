"""`backbone trace` and `backbone ledger verify`, run by an operator straight against audit's database.

Both are auditors' queries, so `trace` is recorded in the ledger like a query from the page.
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from backbone.settings import DatabaseSettings
from services.audit import ledger, queries
from services.audit.ledger import Signer
from services.audit.recording import read_checkpoints, record_query
from services.audit.settings import AuditSettings


async def trace(
    database: DatabaseSettings, config: AuditSettings, key: str, *, language: str
) -> tuple[str, list[dict[str, Any]]]:
    """The timeline of a case, a referral or a trace id: (which of them it was, its rows)."""
    conn = await asyncpg.connect(database.dsn.get_secret_value())
    try:
        async with conn.transaction():
            kind, entries = "trace", []
            try:
                identifier = UUID(key)
                entries = await queries.referral_timeline(conn, identifier)
                kind = "referral"
                if not entries:
                    entries, kind = await queries.case_timeline(conn, identifier), "case"
            except ValueError:
                entries = await queries.trace_timeline(conn, key)
            await record_query(conn, Signer(config.key()), auditor=f"cli:{getpass.getuser()}",
                               query=f"timeline:{kind}", params={kind: key})  # fmt: skip
        return kind, [queries.as_row(entry, language) for entry in entries]
    finally:
        await conn.close()


async def verify(database: DatabaseSettings, config: AuditSettings) -> tuple[int, list[ledger.Finding], Path]:
    """How many rows the ledger holds, what does not verify, and the checkpoint file checked against."""
    conn = await asyncpg.connect(database.dsn.get_secret_value())
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM ledger")
        external = read_checkpoints(config.checkpoint_file)
        findings = await ledger.verify(conn, Signer(config.key()).public, external)
        return count, findings, config.checkpoint_file
    finally:
        await conn.close()


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2, default=str)
