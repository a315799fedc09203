"""Commits one event to the outbox, prints its id, then dies by SIGKILL before anything publishes it.

Run as: python -m tests.integration.crash.outbox_writer <dsn> <case id>
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
import uuid

import asyncpg

from backbone.outbox import Outbox
from tests.integration.kit import consultation


async def main(dsn: str, case_id: uuid.UUID) -> None:
    conn = await asyncpg.connect(dsn)
    async with conn.transaction():
        envelope = await Outbox(source="/tests/crash").add(conn, consultation(case_id))
    print(envelope.id, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)  # committed, never published by this process


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], uuid.UUID(sys.argv[2])))
