"""The leak scan in the services' databases: the rows written during the scan, every column.

Rows older than the scan cannot hold its canaries (the marker is new), and the development databases keep
every earlier run: searching all of them made each scan slower than the last. A row counts as written during
the scan when the transaction that wrote it (its `xmin`) began after the scan's first transaction id; an
update writes a new row version, so updates count too.
"""

from __future__ import annotations

import asyncpg

from backbone.settings import ServiceName
from devtools.faults import needles
from devtools.faults.needles import Needles
from devtools.faults.scenarios import SERVICES
from devtools.local.stack import LocalStack

# Rows whose writing transaction is at most `$3` transactions old: those written since the scan began.
_WRITTEN_SINCE = "age(t.xmin) <= txid_current() - $3::bigint"


async def transaction_id(stack: LocalStack) -> int:
    """A transaction id from before the scan writes anything (ids are counted across the whole server)."""
    conn = await asyncpg.connect(stack.settings_for("intake").database.dsn.get_secret_value())
    try:
        began: int = await conn.fetchval("SELECT txid_current()")
        return began
    finally:
        await conn.close()


async def search(stack: LocalStack, wanted: Needles, began: int) -> tuple[dict[str, int], int, list[str]]:
    """Per kind, the (row, string) pairs found in rows written since `began`, how many tables were searched,
    and where something was found. A kind is not searched in the tables where it belongs (`needles`)."""
    totals = {kind: 0 for kind in wanted if kind not in needles.NOT_IN_DATABASES}
    tables = 0
    where: list[str] = []
    for service in SERVICES:
        conn = await asyncpg.connect(stack.settings_for(service).database.dsn.get_secret_value())
        try:
            for row in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"):
                tables += 1
                table = row["tablename"]
                searched = {
                    kind: strings
                    for kind, strings in wanted.items()
                    if kind in totals and (service, table) not in needles.BELONGS_IN.get(kind, frozenset())
                }
                for kind, hits in (await table_hits(conn, table, searched, began)).items():
                    totals[kind] += hits
                    if hits:
                        where.append(f"database {service}, table {table}: {hits} of {kind}")
        finally:
            await conn.close()
    return totals, tables, where


async def table_hits(conn: asyncpg.Connection, table: str, searched: Needles, began: int) -> dict[str, int]:
    """Per kind, the (row, needle) pairs of the table's rows written since `began` where the needle appears:
    in the row as text (every column; bytea shows as hex there) and in each bytea column as bytes (outbox
    payloads, the ledger's canonical records, ciphertexts)."""
    texts = [needle.decode() for strings in searched.values() for needle in strings]
    kinds = [kind for kind, strings in searched.items() for _ in strings]
    pairs = f"{table} t, unnest($1::text[], $2::text[]) AS n(needle, needle_kind) WHERE {_WRITTEN_SINCE}"
    columns = ["position(n.needle IN t::text) > 0"] + [
        f"position(convert_to(n.needle, 'UTF8') IN t.\"{column['column_name']}\") > 0"
        for column in await conn.fetch(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = 'public' AND table_name = $1 AND data_type = 'bytea'",
            table,
        )
    ]
    found = dict.fromkeys(searched, 0)
    for condition in columns:
        for row in await conn.fetch(
            f"SELECT n.needle_kind, count(*) AS hits FROM {pairs} AND {condition} GROUP BY n.needle_kind",  # noqa: S608 - catalogue names
            texts,
            kinds,
            began,
        ):
            found[row["needle_kind"]] += row["hits"]
    return found


async def rows_holding(stack: LocalStack, service: ServiceName, table: str, wanted: list[bytes], began: int) -> int:
    conn = await asyncpg.connect(stack.settings_for(service).database.dsn.get_secret_value())
    try:
        return (await table_hits(conn, table, {"control": wanted}, began))["control"]
    finally:
        await conn.close()
