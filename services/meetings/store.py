"""Where meetings keeps its cases, consents, meetings and plans: every statement of the service's SQL, in the
caller's transaction on `conn`, recording events through the outbox (backbone.outbox.TransactionStore). The
casebook, the handlers, the API and the review loop ask it; the state machine (lifecycle.py) and the law
(rules.py) decide.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime
from typing import Any, Protocol, TypeAlias
from uuid import UUID

import asyncpg

from backbone.outbox import TransactionStore
from schemas.envelope import Envelope
from schemas.events import (
    ConsentRecorded,
    Event,
    MeetingCancelReason,
    MeetingKind,
    MeetingPurpose,
    MeetingRequested,
    PlanRole,
)
from services.meetings.lifecycle import COMING, State

Row: TypeAlias = dict[str, Any]
"""A row as the casebook reads it: the column names and their values."""


class MeetingStore(Protocol):
    """What the casebook, the handlers, the API and the review loop need of meetings' tables (PostgresStore;
    tests/unit/meetings/fakes.py keeps the same promises in memory, and tests/integration/test_meetings_store.py
    holds both to them)."""

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """A block whose changes are undone, and only they, when it raises."""
        ...

    async def keep_case(self, case_id: UUID, person_id: UUID, district: str, urgency: str) -> None: ...
    async def add_member(self, case_id: UUID, person_id: UUID) -> bool: ...
    async def case_facts(self, case_id: UUID) -> Row | None: ...
    async def keep_consent(self, event: ConsentRecorded) -> None: ...
    async def withdraw_consent(self, consent_id: UUID, at: datetime) -> None: ...
    async def consents_of_case(self, case_id: UUID) -> list[Row]: ...
    async def meeting(self, meeting_id: UUID, *, for_update: bool = False) -> Row | None: ...
    async def busy(self, case_id: UUID, agencies: tuple[str, ...], besides: UUID | None) -> list[Row]: ...
    async def coming_of_person(self, person_id: UUID, kind: MeetingKind, now: datetime) -> list[Row]: ...
    async def add_meeting(self, requested: MeetingRequested, note: str | None) -> None: ...
    async def save_times(
        self,
        meeting_id: UUID,
        *,
        state: State,
        times: tuple[datetime, datetime],
        participants: tuple[str, ...],
        sequence: int,
        now: datetime,
    ) -> None: ...
    async def save_cancelled(
        self, meeting_id: UUID, sequence: int, reason: MeetingCancelReason, note: str | None, now: datetime
    ) -> None: ...
    async def save_held(
        self, meeting_id: UUID, now: datetime, *, moved_to: tuple[datetime, datetime] | None
    ) -> None: ...
    async def change_kind(self, meeting_id: UUID, purpose: MeetingPurpose, flag: str) -> Row | None: ...
    async def save_sequence(self, meeting_id: UUID, sequence: int, now: datetime) -> None: ...
    async def of_case_for(self, case_id: UUID, agency_id: str) -> list[Row]: ...
    async def agenda(self, agency_id: str, *, now: datetime, limit: int) -> list[Row]: ...
    async def counts(self, start: datetime, end: datetime) -> list[Row]: ...
    async def add_plan(
        self,
        plan_id: UUID,
        meeting: Row,
        *,
        goals: list[str],
        roles: tuple[PlanRole, ...],
        review: tuple[date, datetime],
        by: str,
    ) -> bool: ...
    async def plan_of(self, meeting_id: UUID) -> dict[str, Any] | None: ...
    async def reviews_due(self, now: datetime, *, limit: int) -> list[Row]: ...
    async def review_fired(self, plan_id: UUID, now: datetime, review_meeting_id: UUID | None) -> None: ...
    async def record(
        self, event: Event, *, caused_by: Envelope | UUID | None = None, event_id: UUID | None = None
    ) -> Envelope: ...


class PostgresStore(TransactionStore):
    """The store in meetings' database, within the caller's transaction on `conn`."""

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        async with self.conn.transaction():
            yield

    # --- the case and its persons' consents (learned from intake's events) ---

    async def keep_case(self, case_id: UUID, person_id: UUID, district: str, urgency: str) -> None:
        await self.conn.execute(
            "INSERT INTO case_persons (case_id, person_id, district, urgency) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (case_id) DO NOTHING",
            case_id,
            person_id,
            district,
            urgency,
        )

    async def add_member(self, case_id: UUID, person_id: UUID) -> bool:
        """The person is one the case concerns; True if they were not already."""
        joined = await self.conn.fetchval(
            "INSERT INTO case_members (case_id, person_id) VALUES ($1, $2) ON CONFLICT DO NOTHING RETURNING true",
            case_id,
            person_id,
        )
        return bool(joined)

    async def case_facts(self, case_id: UUID) -> Row | None:
        """The case's district and urgency, as its first consultation gave them."""
        return _row(await self.conn.fetchrow("SELECT district, urgency FROM case_persons WHERE case_id = $1", case_id))

    async def keep_consent(self, event: ConsentRecorded) -> None:
        await self.conn.execute(
            "INSERT INTO consents (consent_id, person_id, scope, purposes, valid_until, given_at)"
            " VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            event.consent_id,
            event.person_id,
            event.scope.model_dump_json(),
            list(event.purposes),
            event.valid_until,
            event.given_at,
        )

    async def withdraw_consent(self, consent_id: UUID, at: datetime) -> None:
        await self.conn.execute("UPDATE consents SET withdrawn_at = $2 WHERE consent_id = $1", consent_id, at)

    async def consents_of_case(self, case_id: UUID) -> list[Row]:
        """Every consent of every person the case concerns, in force or not (a person with none: a row of nulls)."""
        return _rows(
            await self.conn.fetch(
                "SELECT p.person_id, c.scope, c.purposes, c.given_at, c.valid_until, c.withdrawn_at"
                " FROM case_members p LEFT JOIN consents c ON c.person_id = p.person_id"
                " WHERE p.case_id = $1 ORDER BY p.person_id",
                case_id,
            )
        )

    # --- meetings ---

    async def meeting(self, meeting_id: UUID, *, for_update: bool = False) -> Row | None:
        lock = " FOR UPDATE" if for_update else ""
        return _row(await self.conn.fetchrow(f"SELECT * FROM meetings WHERE meeting_id = $1{lock}", meeting_id))  # noqa: S608

    async def busy(self, case_id: UUID, agencies: tuple[str, ...], besides: UUID | None) -> list[Row]:
        """The coming meetings of the case or of any of the agencies, besides one."""
        return _rows(
            await self.conn.fetch(
                "SELECT case_id, participants, starts_at, ends_at FROM meetings WHERE state = ANY($4::text[])"
                " AND (case_id = $1 OR participants && $2::text[]) AND meeting_id IS DISTINCT FROM $3",
                case_id,
                list(agencies),
                besides,
                sorted(COMING),
            )
        )

    async def coming_of_person(self, person_id: UUID, kind: MeetingKind, now: datetime) -> list[Row]:
        """The person's meetings of `kind` that have not taken place yet, locked for a change of kind."""
        return _rows(
            await self.conn.fetch(
                "SELECT m.* FROM meetings m JOIN case_members p USING (case_id) WHERE p.person_id = $1"
                " AND m.kind = $2 AND m.state = ANY($4::text[]) AND m.starts_at > $3 FOR UPDATE OF m",
                person_id,
                kind,
                now,
                sorted(COMING),
            )
        )

    async def add_meeting(self, requested: MeetingRequested, note: str | None) -> None:
        """Keep the meeting as its request proposed it, with the requesting agency's own words beside it."""
        await self.conn.execute(
            "INSERT INTO meetings (meeting_id, case_id, kind, purpose, state, organizer, participants, starts_at,"
            " ends_at, reason, request_note) VALUES ($1, $2, $3, $4, $11, $5, $6, $7, $8, $9, $10)",
            requested.meeting_id,
            requested.case_id,
            requested.kind,
            requested.purpose,
            requested.organizer,
            list(requested.participants),
            requested.proposed_start,
            requested.proposed_end,
            requested.reason,
            note,
            State.REQUESTED,
        )

    async def save_times(
        self,
        meeting_id: UUID,
        *,
        state: State,
        times: tuple[datetime, datetime],
        participants: tuple[str, ...],
        sequence: int,
        now: datetime,
    ) -> None:
        await self.conn.execute(
            "UPDATE meetings SET state = $7, starts_at = $2, ends_at = $3, participants = $4, sequence = $5,"
            " updated_at = $6 WHERE meeting_id = $1",
            meeting_id,
            *times,
            list(participants),
            sequence,
            now,
            state,
        )

    async def save_cancelled(
        self, meeting_id: UUID, sequence: int, reason: MeetingCancelReason, note: str | None, now: datetime
    ) -> None:
        await self.conn.execute(
            "UPDATE meetings SET state = $6, sequence = $2, cancel_reason = $3, cancel_note = $4,"
            " updated_at = $5 WHERE meeting_id = $1",
            meeting_id,
            sequence,
            reason,
            note,
            now,
            State.CANCELLED,
        )

    async def save_held(self, meeting_id: UUID, now: datetime, *, moved_to: tuple[datetime, datetime] | None) -> None:
        """Held; at short notice, its time is moved to when it took place and flagged so."""
        if moved_to is not None:
            await self.conn.execute(
                "UPDATE meetings SET starts_at = $2, ends_at = $3, flag = 'held at short notice' WHERE meeting_id = $1",
                meeting_id,
                *moved_to,
            )
        await self.conn.execute(
            "UPDATE meetings SET state = $3, updated_at = $2 WHERE meeting_id = $1", meeting_id, now, State.HELD
        )

    async def change_kind(self, meeting_id: UUID, purpose: MeetingPurpose, flag: str) -> Row | None:
        return _row(
            await self.conn.fetchrow(
                "UPDATE meetings SET kind = $2, purpose = $3, flag = $4 WHERE meeting_id = $1 RETURNING *",
                meeting_id,
                purpose.kind,
                purpose,
                flag,
            )
        )

    async def save_sequence(self, meeting_id: UUID, sequence: int, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE meetings SET sequence = $2, updated_at = $3 WHERE meeting_id = $1", meeting_id, sequence, now
        )

    async def of_case_for(self, case_id: UUID, agency_id: str) -> list[Row]:
        """The case's meetings the agency organises or attends."""
        return _rows(
            await self.conn.fetch(
                "SELECT * FROM meetings WHERE case_id = $1 AND (organizer = $2 OR $2 = ANY(participants))"
                " ORDER BY starts_at",
                case_id,
                agency_id,
            )
        )

    async def agenda(self, agency_id: str, *, now: datetime, limit: int) -> list[Row]:
        """The agency's meetings, organised or attended: those not over yet first (soonest first), then the others
        (latest first), at most `limit`."""
        return _rows(
            await self.conn.fetch(
                "SELECT * FROM meetings WHERE organizer = $1 OR $1 = ANY(participants)"
                " ORDER BY ends_at < $2, CASE WHEN ends_at >= $2 THEN starts_at END, starts_at DESC LIMIT $3",
                agency_id,
                now,
                limit,
            )
        )

    async def counts(self, start: datetime, end: datetime) -> list[Row]:
        """Meetings starting in [start, end), counted by kind, purpose and state."""
        return _rows(
            await self.conn.fetch(
                "SELECT kind, purpose, state, count(*) AS n FROM meetings WHERE starts_at >= $1 AND starts_at < $2"
                " GROUP BY kind, purpose, state",
                start,
                end,
            )
        )

    # --- plans ---

    async def add_plan(
        self,
        plan_id: UUID,
        meeting: Row,
        *,
        goals: list[str],
        roles: tuple[PlanRole, ...],
        review: tuple[date, datetime],
        by: str,
    ) -> bool:
        """Keep the meeting's plan, with the day of its review and when that falls due; False if it has one."""
        inserted = await self.conn.fetchval(
            "INSERT INTO plans (plan_id, meeting_id, case_id, goals, roles, review_on, confirmed_by, review_due_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (meeting_id) DO NOTHING RETURNING true",
            plan_id,
            meeting["meeting_id"],
            meeting["case_id"],
            json.dumps(goals, ensure_ascii=False),
            json.dumps([role.model_dump() for role in roles]),
            review[0],
            by,
            review[1],
        )
        return bool(inserted)

    async def plan_of(self, meeting_id: UUID) -> dict[str, Any] | None:
        """The support plan the meeting confirmed, with its goals (kept here, never on the bus); None if none yet."""
        row = await self.conn.fetchrow(
            "SELECT plan_id, goals, roles, review_on, confirmed_by, confirmed_at FROM plans WHERE meeting_id = $1",
            meeting_id,
        )
        if row is None:
            return None
        return {**dict(row), "goals": json.loads(row["goals"]), "roles": json.loads(row["roles"])}

    async def reviews_due(self, now: datetime, *, limit: int) -> list[Row]:
        """Plans whose review fell due by `now` and has not fired, with their meeting's participants and purpose;
        each locked, and skipped by a concurrent caller."""
        return _rows(
            await self.conn.fetch(
                "SELECT p.plan_id, p.meeting_id, p.case_id, p.review_on, p.review_due_at, p.confirmed_by,"
                " m.participants, m.purpose FROM plans p JOIN meetings m USING (meeting_id)"
                " WHERE p.review_fired_at IS NULL AND p.review_due_at <= $1 ORDER BY p.review_due_at LIMIT $2"
                " FOR UPDATE OF p SKIP LOCKED",
                now,
                limit,
            )
        )

    async def review_fired(self, plan_id: UUID, now: datetime, review_meeting_id: UUID | None) -> None:
        await self.conn.execute(
            "UPDATE plans SET review_fired_at = $2, review_meeting_id = $3 WHERE plan_id = $1",
            plan_id,
            now,
            review_meeting_id,
        )


def _row(row: asyncpg.Record | None) -> Row | None:
    return None if row is None else dict(row)


def _rows(rows: list[asyncpg.Record]) -> list[Row]:
    return [dict(row) for row in rows]
