"""`backbone trace` and `backbone ledger verify`, run by an operator straight against audit's database.

Both are auditors' queries, so `trace` is recorded in the ledger like a query from the page.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from pathlib import Path
from typing import Any
from uuid import UUID

import asyncpg

from backbone.local.stack import LocalStack
from services.audit import ledger, queries
from services.audit.ledger import Signer
from services.audit.recording import read_checkpoints, record_query
from services.audit.settings import AuditSettings


def _config(stack: LocalStack) -> AuditSettings:
    return AuditSettings.model_validate(stack.audit_settings())


def trace(stack: LocalStack, key: str, *, language: str) -> tuple[str, list[dict[str, Any]]]:
    return asyncio.run(_trace(stack, key, language))


def verify(stack: LocalStack) -> tuple[int, list[ledger.Finding], Path]:
    return asyncio.run(_verify(stack))


async def _connect(stack: LocalStack) -> asyncpg.Connection:
    return await asyncpg.connect(stack.settings_for("audit").database.dsn.get_secret_value())


async def _trace(stack: LocalStack, key: str, language: str) -> tuple[str, list[dict[str, Any]]]:
    conn = await _connect(stack)
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
            await record_query(conn, Signer(_config(stack).key()), auditor=f"cli:{getpass.getuser()}",
                               query=f"timeline:{kind}", params={kind: key})  # fmt: skip
        return kind, [queries.as_row(entry, language) for entry in entries]
    finally:
        await conn.close()


async def _verify(stack: LocalStack) -> tuple[int, list[ledger.Finding], Path]:
    config = _config(stack)
    conn = await _connect(stack)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM ledger")
        external = read_checkpoints(config.checkpoint_file)
        findings = await ledger.verify(conn, Signer(config.key()).public, external)
        return count, findings, config.checkpoint_file
    finally:
        await conn.close()


def as_json(rows: list[dict[str, Any]]) -> str:
    return json.dumps(rows, ensure_ascii=False, indent=2, default=str)
