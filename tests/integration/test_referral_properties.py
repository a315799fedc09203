"""Stateful property test of the real casework on the real database: random sequences of consultations,
accepts, declines, capacity changes and clock advances; after every step no case is orphaned and every
referral's loop is closed or still in time."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

from backbone import directory
from backbone.agencies import Agency
from backbone.directory import Capacity
from backbone.outbox import Outbox
from backbone.settings import DatabaseSettings
from schemas.envelope import Envelope
from schemas.events import ConsultationReceived, DeclineReason
from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral.casework import Casework, Need
from services.referral.decisions import Accept, Decline
from services.referral.policy import ReferralPolicy
from services.referral.reading import AT_RISK
from services.referral.timers import DeadlineTimers

DIRECTORY = directory.load()
CASEWORK = Casework(DIRECTORY, ReferralPolicy(), Outbox(source="/tests/properties"))
SOME_AGENCIES = sorted(a.id for a in DIRECTORY.agencies.values() if not a.coordinator)[:20]


class Casebook(RuleBasedStateMachine):
    dsn: str

    @initialize()
    def open(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.pool: asyncpg.Pool = self.run(_pool(self.dsn))  # made inside this machine's own event loop
        self.run(self.pool.execute("DELETE FROM capacities"))
        self.clock = datetime.now(UTC)
        self.cases: list[uuid.UUID] = []

    def run(self, coroutine: Any) -> Any:
        return self.loop.run_until_complete(coroutine)

    def teardown(self) -> None:
        if hasattr(self, "pool"):
            self.run(self.pool.close())
            self.loop.close()

    @rule(
        district=st.sampled_from(list(District)),
        domains=st.lists(st.sampled_from(list(SupportDomain)), min_size=1, max_size=2, unique=True),
        urgent=st.booleans(),
    )
    def consult(self, district: District, domains: list[SupportDomain], urgent: bool) -> None:
        need = Need(
            case_id=uuid.uuid4(),
            consultation_id=uuid.uuid4(),
            from_agency=f"chiku-fukushi-{district}",
            district=district,
            domains=tuple(domains),
            urgency=Urgency.URGENT if urgent else Urgency.NORMAL,
        )
        cause = Envelope(
            id=uuid.uuid4(),
            source="/tests",
            type=ConsultationReceived.TYPE,
            time=self.clock,
            correlationid=str(need.case_id),
        )
        self.cases.append(need.case_id)
        self.run(
            self._in_transaction(
                lambda conn: CASEWORK.open_case(CASEWORK.on(conn), need, caused_by=cause, now=self.clock)
            )
        )

    @rule(pick=st.integers(min_value=0), accept=st.booleans(), reason=st.sampled_from(list(DeclineReason)))
    def answer(self, pick: int, accept: bool, reason: DeclineReason) -> None:
        proposed = self.run(
            self.pool.fetch(
                "SELECT referral_id, to_agency FROM referrals WHERE case_id = ANY($1::uuid[]) AND state = 'proposed'"
                " ORDER BY created_at",
                self.cases,
            )
        )
        if not proposed:
            return
        row = proposed[pick % len(proposed)]
        by = CASEWORK.actor(Agency(row["to_agency"], DIRECTORY.agencies[row["to_agency"]].type))
        command = Accept(by) if accept else Decline(by, reason)
        self.run(
            self._in_transaction(
                lambda conn: CASEWORK.act(CASEWORK.on(conn), row["referral_id"], command, now=self.clock)
            )
        )

    @rule(agency=st.sampled_from(SOME_AGENCIES), capacity=st.sampled_from(list(Capacity)))
    def report_capacity(self, agency: str, capacity: Capacity) -> None:
        self.run(
            self.pool.execute(
                "INSERT INTO capacities (agency_id, capacity) VALUES ($1, $2) ON CONFLICT"
                " (agency_id) DO UPDATE SET capacity = EXCLUDED.capacity",
                agency,
                capacity,
            )
        )

    @rule(hours=st.sampled_from([1, 3, 8, 30, 100]))
    def advance_clock(self, hours: int) -> None:
        self.clock += timedelta(hours=hours)
        timers = DeadlineTimers(self.pool, CASEWORK, clock=lambda: self.clock)
        while self.run(timers.fire_due()):
            pass

    @invariant()
    def no_orphan_case(self) -> None:
        if not hasattr(self, "pool") or not self.cases:
            return
        rows = self.run(
            self.pool.fetch(
                "SELECT c.case_id, c.lead_agency, c.queued_at,"
                " bool_or(r.state = 'proposed' AND (r.respond_by > $2 OR r.escalation_level > 0)) AS waiting"
                " FROM cases c LEFT JOIN referrals r USING (case_id) WHERE c.case_id = ANY($1::uuid[])"
                " GROUP BY c.case_id, c.lead_agency, c.queued_at",
                self.cases,
                self.clock,
            )
        )
        at_risk = {row["case_id"] for row in self.run(self.pool.fetch(AT_RISK, True, ""))}  # as a coordinator sees it
        assert len(rows) == len(self.cases)
        for row in rows:
            # A lead agency, a referral still inside its deadline (or already climbing), or the queue.
            assert row["lead_agency"] or row["waiting"] or row["queued_at"], f"orphan case {row['case_id']}"
            if row["queued_at"] and not row["lead_agency"]:
                assert row["case_id"] in at_risk  # and the queue is visible

    @invariant()
    def closed_loop(self) -> None:
        if not hasattr(self, "pool") or not self.cases:
            return
        late = self.run(
            self.pool.fetchval(
                "SELECT count(*) FROM referrals WHERE case_id = ANY($1::uuid[]) AND state = 'proposed'"
                " AND respond_by < $2 AND escalation_level = 0",
                self.cases,
                self.clock,
            )
        )
        assert late == 0, "a referral waits silently past its deadline"
        reasonless = self.run(
            self.pool.fetchval(
                "SELECT count(*) FROM referrals WHERE case_id = ANY($1::uuid[]) AND state = 'declined'"
                " AND decline_reason IS NULL",
                self.cases,
            )
        )
        assert reasonless == 0

    async def _in_transaction(self, work: object) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await work(conn)  # type: ignore[operator]


async def _pool(dsn: str) -> asyncpg.Pool:
    return await asyncpg.create_pool(dsn, min_size=1, max_size=2)


@pytest.fixture
async def casebook_database(referral_tables: asyncpg.Pool, tests_database: DatabaseSettings) -> str:
    return tests_database.dsn.get_secret_value()


def test_no_case_is_orphaned_and_no_referral_waits_silently(casebook_database: str) -> None:
    Casebook.dsn = casebook_database
    runner = Casebook.TestCase
    runner.settings = settings(
        max_examples=25, stateful_step_count=25, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    runner().runTest()
