"""Outreach engagements against the database: starting one (from an outreach plan, or by hand) and recording
its steps. Each function runs in the caller's transaction and writes its events through the outbox; the rules
are services/referral/outreach.py's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4, uuid5

import asyncpg

from backbone.agencies import Agency
from backbone.db import Connection
from backbone.directory import Directory
from backbone.outbox import Outbox
from schemas.envelope import Envelope
from schemas.events import (
    OutreachConsentObtained,
    OutreachContactAttempted,
    OutreachContactMade,
    OutreachEnded,
    OutreachEnding,
    OutreachFacts,
    OutreachMethod,
    OutreachResult,
    OutreachStarted,
    SupportPlanConfirmed,
)
from schemas.vocabulary import District
from services.referral.outreach import OutreachRefusedError, State, Step, after, may_hold, may_work, partner_of
from services.referral.policy import ReferralPolicy


class NotAWorkerError(Exception):
    """The agency neither holds nor partners the engagement, and is no coordinator."""


@dataclass(frozen=True)
class Engagements:
    directory: Directory
    policy: ReferralPolicy
    outbox: Outbox

    async def from_plan(self, conn: Connection, plan: SupportPlanConfirmed, caused_by: Envelope) -> None:
        """An outreach plan's outreach role becomes an engagement held by that agency, with its partner."""
        holders = [role.agency for role in plan.roles if role.responsibility == "outreach"]
        if not holders:
            return
        holder = next((a for a in holders if (e := self.directory.agency(a)) and e.coordinator), holders[0])
        partner = partner_of(holder, plan.district, self.directory, coordinator=plan.organizer)
        await self.start(
            conn,
            case_id=plan.case_id,
            holder=holder,
            partner=partner,
            now=caused_by.time,
            plan_id=plan.plan_id,
            caused_by=caused_by,
        )

    async def start(
        self,
        conn: Connection,
        *,
        case_id: UUID,
        holder: str,
        partner: str | None,
        now: datetime,
        plan_id: UUID | None = None,
        by_staff: str | None = None,
        caused_by: Envelope | None = None,
    ) -> asyncpg.Record | None:
        """Open an engagement; None when the plan's engagement exists already (a redelivered plan)."""
        if not may_hold(holder, self.directory):
            raise OutreachRefusedError(
                "outreach is held by バックアップふじさわ, バックアップふじさわ社協 or a district CSW"
            )
        outreach_id = uuid5(plan_id, "outreach") if plan_id else uuid4()
        row = await conn.fetchrow(
            "INSERT INTO outreach (outreach_id, case_id, holder, partner, plan_id, state, started_at, quiet_until)"
            " VALUES ($1, $2, $3, $4, $5, 'attempting', $6, $7) ON CONFLICT DO NOTHING RETURNING *",
            outreach_id,
            case_id,
            holder,
            partner,
            plan_id,
            now,
            self.policy.outreach_quiet_until(now),
        )
        if row is None:
            return None
        event = OutreachStarted(**_facts(row), by_staff=by_staff, plan_id=plan_id, started_at=now)
        await self.outbox.add(conn, event, caused_by=caused_by)
        return row

    async def record(
        self,
        conn: Connection,
        outreach_id: UUID,
        step: Step,
        agency: Agency,
        *,
        now: datetime,
        method: OutreachMethod | None = None,
        result: OutreachResult | None = None,
        ending: OutreachEnding | None = None,
        note: str = "",
    ) -> asyncpg.Record | None:
        """Record a step; the engagement as it now stands, or None when it does not exist. Raises
        NotAWorkerError and OutreachRefusedError."""
        row = await conn.fetchrow("SELECT * FROM outreach WHERE outreach_id = $1 FOR UPDATE", outreach_id)
        if row is None:
            return None
        if not may_work(agency.id, holder=row["holder"], partner=row["partner"], directory=self.directory):
            raise NotAWorkerError
        state = after(State(row["state"]), step, ending)
        facts = _facts(row) | {"by_staff": agency.by_staff}
        event: OutreachFacts
        if step is Step.ATTEMPT:
            attempt = row["attempts"] + 1
            await conn.execute(
                "INSERT INTO outreach_attempts (outreach_id, attempt, at, method, result, agency, by_staff, note)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                outreach_id,
                attempt,
                now,
                method,
                result,
                agency.id,
                agency.by_staff,
                note or None,
            )
            changed = await conn.fetchrow(
                "UPDATE outreach SET attempts = $2, last_attempt_at = $3, quiet_until = $4 WHERE outreach_id = $1"
                " RETURNING *",
                outreach_id,
                attempt,
                now,
                self.policy.outreach_quiet_until(now),
            )
            event = OutreachContactAttempted(
                **facts,
                method=method or OutreachMethod.OTHER,
                result=result or OutreachResult.NO_ANSWER,
                attempted_at=now,
                attempt=attempt,
            )
        else:
            column = {Step.CONTACT: "contact_at", Step.CONSENT: "consent_at", Step.END: "ended_at"}[step]
            changed = await conn.fetchrow(
                f"UPDATE outreach SET state = $2, {column} = $3, ending = coalesce($4, ending),"  # noqa: S608 - a column name from the table above
                " end_note = coalesce($5, end_note) WHERE outreach_id = $1 RETURNING *",
                outreach_id,
                state,
                now,
                ending,
                (note or None) if step is Step.END else None,
            )
            if step is Step.CONTACT:
                event = OutreachContactMade(**facts, made_at=now)
            elif step is Step.CONSENT:
                event = OutreachConsentObtained(**facts, obtained_at=now)
            else:
                event = OutreachEnded(**facts, ending=ending or OutreachEnding.OTHER, ended_at=now)
        await self.outbox.add(conn, event)
        return changed

    async def district_of(self, conn: Connection, case_id: UUID) -> District | None:
        district = await conn.fetchval(
            "SELECT district FROM referrals WHERE case_id = $1 ORDER BY created_at LIMIT 1", case_id
        )
        return District(district) if district else None


def _facts(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "case_id": row["case_id"],
        "outreach_id": row["outreach_id"],
        "holder": row["holder"],
        "partner": row["partner"],
    }
