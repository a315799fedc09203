"""Durable deadlines: overdue referrals climb, and a timer fires exactly once even when its firer dies."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from datetime import UTC, datetime

import asyncpg

from backbone import directory
from backbone.outbox import Outbox
from backbone.settings import DatabaseSettings
from schemas.envelope import Envelope
from schemas.events import ConsultationReceived, ReferralEscalated, ReferralOverdue
from schemas.vocabulary import AgencyType, District, SupportDomain, Urgency
from services.referral.casework import Casework, Need
from services.referral.policy import ReferralPolicy
from services.referral.timers import DeadlineTimers
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices


async def test_an_unanswered_referral_becomes_overdue_then_reaches_the_coordinator(services: RunningServices) -> None:
    async with await services.as_agency("chiku-fukushi-muraoka", AgencyType.DISTRICT_WELFARE_COUNTER) as intake:
        answer = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": "chiku-fukushi-muraoka",
                "staff_id": "u-1",
                "channel": "phone",
                "district": "muraoka",
                "domains": ["elderly"],
                "urgency": "urgent",
            },
        )
    case_id = uuid.UUID(answer.json()["case_id"])
    pool = services.runtime("referral").pool
    await eventually(lambda: pool.fetchval("SELECT 1 FROM referrals WHERE case_id = $1", case_id))
    referral_id = await pool.fetchval("SELECT referral_id FROM referrals WHERE case_id = $1", case_id)

    async def level() -> int:
        value: int = await pool.fetchval("SELECT escalation_level FROM referrals WHERE referral_id = $1", referral_id)
        return value

    # Time travel for this referral only: its deadline has passed (the service's own timer loop fires it).
    await pool.execute(
        "UPDATE referral_timers SET due_at = now() - interval '1 second' WHERE referral_id = $1", referral_id
    )
    await eventually(lambda: _at_level(level, 1), within=15)
    await pool.execute(
        "UPDATE referral_timers SET due_at = now() - interval '1 second' WHERE referral_id = $1 AND fired_at IS NULL",
        referral_id,
    )
    await eventually(lambda: _at_level(level, 2), within=15)

    async with await services.as_agency(
        "chiku-fukushi-muraoka", AgencyType.DISTRICT_WELFARE_COUNTER, "referral"
    ) as api:
        at_risk = {row["case_id"]: row["reason"] for row in (await api.get("/v1/cases/at-risk")).json()}
    assert "escalated to backup-fujisawa-shakyo" in at_risk[str(case_id)]
    # Accepting late still works, gives the case its lead, and takes it off the list.
    async with await services.as_agency("ikiiki-muraoka", AgencyType.COMMUNITY_SUPPORT_CENTRE, "referral") as centre:
        assert (await centre.post(f"/v1/referrals/{referral_id}/accept")).status_code == 200
        at_risk_after = {row["case_id"] for row in (await centre.get("/v1/cases/at-risk")).json()}
    assert str(case_id) not in at_risk_after


async def _at_level(level: object, wanted: int) -> bool:
    return await level() >= wanted  # type: ignore[operator]


async def test_timers_pending_when_the_firer_is_killed_fire_exactly_once_after_restart(
    referral_tables: asyncpg.Pool, tests_database: DatabaseSettings
) -> None:
    pool = referral_tables
    casework = Casework(directory.load(), ReferralPolicy(), Outbox(source="/tests/timers"))
    referral_ids = []
    async with pool.acquire() as conn, conn.transaction():
        for _ in range(5):
            need = Need(
                case_id=uuid.uuid4(),
                consultation_id=uuid.uuid4(),
                from_agency="chiku-fukushi-chogo",
                district=District.CHOGO,
                domains=(SupportDomain.ELDERLY,),
                urgency=Urgency.URGENT,
            )
            cause = Envelope(
                id=uuid.uuid4(),
                source="/tests",
                type=ConsultationReceived.TYPE,
                time=datetime.now(UTC),
                correlationid=str(need.case_id),
            )
            await casework.open_case(casework.on(conn), need, caused_by=cause, now=datetime.now(UTC))
            referral_ids.append(
                await conn.fetchval(
                    "SELECT referral_id FROM referrals WHERE consultation_id = $1", need.consultation_id
                )
            )
        await conn.execute(
            "UPDATE referral_timers SET due_at = now() - interval '1 minute' WHERE referral_id = ANY($1::uuid[])",
            referral_ids,
        )

    firer = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "tests.integration.crash.stalled_timers",
        tests_database.dsn.get_secret_value(),
        stdout=asyncio.subprocess.PIPE,
    )
    assert firer.stdout is not None
    try:
        assert (await asyncio.wait_for(firer.stdout.readline(), 60)).startswith(b"fired-one")
    finally:
        firer.send_signal(signal.SIGKILL)
        await firer.wait()
    pending = await pool.fetchval(
        "SELECT count(*) FROM referral_timers WHERE referral_id = ANY($1::uuid[]) AND fired_at IS NULL", referral_ids
    )
    assert pending == 5  # the killed firer's transaction left nothing behind

    restarted = DeadlineTimers(pool, casework)
    while await restarted.fire_due():
        pass
    assert await restarted.fire_due() == 0
    for referral_id in referral_ids:
        types = await pool.fetch(
            "SELECT headers->>'ce_type' AS type FROM outbox WHERE headers->>'ce_correlationid' ="
            " (SELECT case_id::text FROM referrals WHERE referral_id = $1)",
            referral_id,
        )
        fired = [row["type"] for row in types]
        assert fired.count(ReferralOverdue.TYPE) == 1 and fired.count(ReferralEscalated.TYPE) == 1
        assert (
            await pool.fetchval(
                "SELECT count(*) FROM referral_timers WHERE referral_id = $1 AND kind = 'coordinator'", referral_id
            )
            == 1
        )
