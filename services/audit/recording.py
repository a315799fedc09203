"""Recording: every record of every topic (dead-letter topics included) into the ledger, once; and
auditors' own queries, which are recorded too."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiokafka.structs import ConsumerRecord

from backbone.db import Connection
from backbone.delivery import RecordHandler, transaction_scratch
from backbone.loops import keep_running
from services.audit import ledger
from services.audit.ledger import Entry, Signer

QUERY_TOPIC = "audit.queries"
"""Not a Kafka topic: auditors' queries are appended by the audit service itself."""
QUERY_TYPE = "jp.fujisawa.welfare.audit.query.performed.v1"


def on_record(signer: Signer) -> RecordHandler:
    async def handle(conn: Connection, record: ConsumerRecord[bytes, bytes]) -> None:
        entry = Entry(record.topic, record.partition, record.offset, list(record.headers), record.key, record.value)
        await ledger.append(conn, signer, entry, kept=transaction_scratch())

    return handle


async def record_query(conn: Connection, signer: Signer, *, auditor: str, query: str, params: dict[str, str]) -> None:
    value = json.dumps({"auditor": auditor, "query": query, "params": params}, ensure_ascii=False).encode()
    headers = [
        ("ce_id", str(uuid.uuid4()).encode()),
        ("ce_type", QUERY_TYPE.encode()),
        ("ce_time", datetime.now(UTC).isoformat().encode()),
        ("ce_source", b"/fujisawa/backbone/audit"),
    ]
    await ledger.append(conn, signer, Entry(QUERY_TOPIC, None, None, headers, auditor.encode(), value))


class Checkpoints:
    """Signs the chain head at intervals and appends the checkpoint to a file auditors can keep."""

    def __init__(self, pool: asyncpg.Pool, signer: Signer, file: Path, every: float) -> None:
        self.pool, self.signer, self.file, self.every = pool, signer, file, every

    async def run(self) -> None:
        await keep_running("checkpoints", self._step, idle=self._idle)

    async def _step(self) -> int:
        await self.once()
        return 0  # one checkpoint per interval, whatever happened

    async def _idle(self) -> None:
        await asyncio.sleep(self.every)

    async def once(self) -> dict[str, object] | None:
        async with self.pool.acquire() as conn, conn.transaction():
            made = await ledger.checkpoint(conn, self.signer)
        if made is not None:
            self.file.parent.mkdir(parents=True, exist_ok=True)
            with self.file.open("a", encoding="utf-8") as out:
                out.write(json.dumps(made) + "\n")
        return made


def read_checkpoints(file: Path) -> list[dict[str, object]]:
    if not file.exists():
        return []
    return [json.loads(line) for line in file.read_text(encoding="utf-8").splitlines() if line.strip()]
