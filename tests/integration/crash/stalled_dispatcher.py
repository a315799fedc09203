"""Runs notify's dispatcher over the tests database until the test SIGKILLs it mid-burst.

Run as: python -m tests.integration.crash.stalled_dispatcher <dsn> <smtp port>
"""

from __future__ import annotations

import asyncio
import sys

from opentelemetry import trace

from backbone.db import create_pool
from backbone.settings import DatabaseSettings
from services.notify.deliveries import Dispatcher
from tests.integration.test_notify_crash import notifier


async def main(dsn: str, smtp_port: int) -> None:
    pool = await create_pool(DatabaseSettings(dsn=dsn))
    dispatcher = Dispatcher(pool, notifier(smtp_port), trace.get_tracer("tests"), batch=5)
    print("dispatching", flush=True)
    await dispatcher.run()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], int(sys.argv[2])))
