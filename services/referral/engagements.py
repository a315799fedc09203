"""Outreach engagements' steps: starting one (from an outreach plan, or by hand) and recording what the workers did.
Each step loads the engagement, decides by services/referral/outreach.py's rules, and keeps the change and its
event through the store (store.py), in the caller's transaction."""

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
from services.referral.outreach import OutreachRefusedError, State, Step, after, may_hold, may_work, partner_of
from services.referral.policy import ReferralPolicy
from services.referral.store import PostgresStore


class NotAWorkerError(Exception):
    """The agency neither holds nor partners the engagement, and is no coordinator."""


@dataclass(frozen=True)
class Engagements:
    directory: Directory
    policy: ReferralPolicy
    outbox: Outbox

    def on(self, conn: Connection) -> PostgresStore:
        """The store in the transaction open on `conn`, recording events through this service's outbox."""
        return PostgresStore(conn, self.outbox)

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
        store = self.on(conn)
        row = await store.open_outreach(
            uuid5(plan_id, "outreach") if plan_id else uuid4(),
            case_id=case_id,
            holder=holder,
            partner=partner,
            plan_id=plan_id,
            now=now,
            quiet_until=self.policy.outreach_quiet_until(now),
        )
        if row is None:
            return None
        await store.record(
            OutreachStarted(**_facts(row), by_staff=by_staff, plan_id=plan_id, started_at=now), caused_by=caused_by
        )
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
        store = self.on(conn)
        row = await store.outreach_for_update(outreach_id)
        if row is None:
            return None
        if not may_work(agency.id, holder=row["holder"], partner=row["partner"], directory=self.directory):
            raise NotAWorkerError
        state = after(State(row["state"]), step, ending)
        facts = _facts(row) | {"by_staff": agency.by_staff}
        event: OutreachFacts
        if step is Step.ATTEMPT:
            attempt = row["attempts"] + 1
            changed = await store.add_attempt(
                outreach_id,
                attempt,
                at=now,
                method=method,
                result=result,
                agency=agency.id,
                by_staff=agency.by_staff,
                note=note or None,
                quiet_until=self.policy.outreach_quiet_until(now),
            )
            event = OutreachContactAttempted(
                **facts,
                method=method or OutreachMethod.OTHER,
                result=result or OutreachResult.NO_ANSWER,
                attempted_at=now,
                attempt=attempt,
            )
        else:
            end_note = (note or None) if step is Step.END else None
            changed = await store.save_outreach_step(outreach_id, step, state, at=now, ending=ending, end_note=end_note)
            if step is Step.CONTACT:
                event = OutreachContactMade(**facts, made_at=now)
            elif step is Step.CONSENT:
                event = OutreachConsentObtained(**facts, obtained_at=now)
            else:
                event = OutreachEnded(**facts, ending=ending or OutreachEnding.OTHER, ended_at=now)
        await store.record(event)
        return changed


def _facts(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "case_id": row["case_id"],
        "outreach_id": row["outreach_id"],
        "holder": row["holder"],
        "partner": row["partner"],
    }
