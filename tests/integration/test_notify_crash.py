"""The dispatcher killed during a burst: after restart every recipient has every notification, and any
message sent twice (accepted by the server, then the process died before recording it) carries the same
Message-ID, so the recipient's mail system sees it once."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections import Counter
from datetime import UTC, datetime

import asyncpg
from opentelemetry import trace

from backbone import directory
from backbone.outbox import Outbox
from backbone.settings import DatabaseSettings
from schemas.envelope import Envelope
from schemas.events import ReferralProposed
from schemas.vocabulary import Urgency
from services.notify.deliveries import Dispatcher, Notifier
from services.notify.rules import Recipient
from services.notify.settings import NotifySettings
from tests.integration.kafka_tools import eventually
from tests.integration.receivers import SmtpCatcher
from tests.integration.stores import with_tables

BURST = 30


def notifier(smtp_port: int) -> Notifier:
    settings = NotifySettings(smtp_port=smtp_port, retry_base_seconds=0.05, poll_seconds=0.05, send_timeout_seconds=5)
    return Notifier(settings, directory.load(), Outbox(source="/tests/notify"), b"k" * 32)


async def burst(pool: asyncpg.Pool, planner: Notifier) -> tuple[uuid.UUID, set[str]]:
    """One urgent notification for each of BURST agencies, planned in one transaction: (case, their ids)."""
    await with_tables(pool, "notify")
    agencies = sorted(a for a in directory.load().agencies if a.startswith(("ikiiki-", "csw-", "chiku-")))[:BURST]
    case_id = uuid.uuid4()
    async with pool.acquire() as conn, conn.transaction():
        for agency in agencies:
            cause = Envelope(id=uuid.uuid4(), source="/tests", type=ReferralProposed.TYPE, time=datetime.now(UTC),
                             correlationid=str(case_id))  # fmt: skip
            await planner.plan(planner.on(conn), cause=cause, case_id=case_id, recipient=Recipient(agency, "primary",
                               "referral-proposed"), urgency=Urgency.URGENT, now=datetime.now(UTC))  # fmt: skip
    planned = {str(r["notification_id"]) for r in await pool.fetch("SELECT notification_id FROM deliveries"
                                                                   " WHERE case_id = $1", case_id)}  # fmt: skip
    assert len(planned) == BURST
    return case_id, planned


def received(smtp: SmtpCatcher, case_id: uuid.UUID) -> list[str]:
    """The notification ids of the case's messages the server accepted, in order, repeats included."""
    return [m["Message-ID"].strip("<>").split("@")[0] for m in smtp.messages if m["X-Backbone-Case"] == str(case_id)]


async def test_every_notification_arrives_once_per_message_id_after_the_dispatcher_is_killed(
    pool: asyncpg.Pool, tests_database: DatabaseSettings, smtp: SmtpCatcher
) -> None:
    planner = notifier(smtp.port)
    case_id, planned = await burst(pool, planner)
    smtp.delay = 0.1  # slow enough that the kill lands mid-burst
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "tests.integration.crash.stalled_dispatcher", tests_database.dsn.get_secret_value(),
        str(smtp.port), stdout=asyncio.subprocess.PIPE)  # fmt: skip
    try:
        await eventually(lambda: len(received(smtp, case_id)) >= 7, within=30)
    finally:
        child.send_signal(signal.SIGKILL)
        await child.wait()
    smtp.delay = 0.0
    before_restart = len(received(smtp, case_id))
    assert before_restart < BURST  # killed mid-burst

    restarted = Dispatcher(pool, planner, trace.get_tracer("tests"))
    while await restarted.send_due():
        pass
    counts = Counter(received(smtp, case_id))
    assert set(counts) == planned  # every recipient has every notification ...
    states = {r["state"] for r in await pool.fetch("SELECT state FROM deliveries WHERE case_id = $1", case_id)}
    assert states == {"delivered"}
    # ... and a repeat, if the kill fell between the server's acceptance and the commit, has the same id.
    repeats = sum(n - 1 for n in counts.values())
    print(f"burst {BURST}: {before_restart} before the kill, {repeats} sent twice (same Message-ID)")
    assert repeats <= 5  # at most the batch that was in flight


async def test_a_graceful_stop_mid_batch_records_what_was_sent_so_nothing_goes_out_twice(
    pool: asyncpg.Pool, smtp: SmtpCatcher
) -> None:
    planner = notifier(smtp.port)
    case_id, planned = await burst(pool, planner)
    smtp.delay = 0.2  # the stop lands while a batch is being sent
    running = asyncio.create_task(Dispatcher(pool, planner, trace.get_tracer("tests"), batch=10).run())
    try:
        await eventually(lambda: len(received(smtp, case_id)) >= 1, within=30)
    finally:
        running.cancel()  # what the service's lifespan does on SIGTERM
        await asyncio.gather(running, return_exceptions=True)
    smtp.delay = 0.0
    sent = set(received(smtp, case_id))
    delivered = {str(r["notification_id"]) for r in await pool.fetch(
        "SELECT notification_id FROM deliveries WHERE case_id = $1 AND state = 'delivered'", case_id)}  # fmt: skip
    assert sent and sent == delivered and len(sent) < BURST  # stopped mid-burst, every send recorded

    restarted = Dispatcher(pool, planner, trace.get_tracer("tests"))
    while await restarted.send_due():
        pass
    counts = Counter(received(smtp, case_id))
    assert set(counts) == planned and max(counts.values()) == 1
