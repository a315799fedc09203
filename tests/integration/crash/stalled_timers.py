"""Fires due deadline timers, then stalls inside the transaction after the first one; the test SIGKILLs it.

Run as: python -m tests.integration.crash.stalled_timers <dsn>
"""

from __future__ import annotations

import asyncio
import sys
from typing import Any

from backbone import directory
from backbone.db import create_pool
from backbone.outbox import Outbox
from backbone.settings import DatabaseSettings
from services.referral import timers
from services.referral.casework import Casework
from services.referral.policy import ReferralPolicy


class StallingCasework(Casework):
    async def fire(self, *args: Any, **kwargs: Any) -> None:
        await super().fire(*args, **kwargs)
        print("fired-one", flush=True)
        await asyncio.sleep(600)  # still inside the firing transaction


async def main(dsn: str) -> None:
    pool = await create_pool(DatabaseSettings(dsn=dsn))
    casework = StallingCasework(directory.load(), ReferralPolicy(), Outbox(source="/tests/timers"))
    await timers.DeadlineTimers(pool, casework).fire_due()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1]))
