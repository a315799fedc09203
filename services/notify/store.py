"""Where notify keeps its deliveries and rosters: `DeliveryStore` says what planning, sending and escalating need,
`PostgresStore` does it in the caller's transaction, recording events through the outbox so that a step and its
events commit together. tests/unit/notify/fakes.py keeps the same promises in memory, and
tests/integration/test_notify_store.py holds both to them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from backbone.outbox import TransactionStore
from backbone.telemetry import current_trace_id
from schemas.envelope import Envelope
from schemas.events import Event
from schemas.vocabulary import Urgency
from services.notify.lifecycle import Delivered, Delivery, Failed, State, TryAgain


@dataclass(frozen=True)
class Message:
    """What is sent, and where: rendered when the delivery was planned."""

    endpoint: str
    person: str
    language: str
    subject: str
    body: str
    ics: str | None = None


@dataclass(frozen=True)
class Planned:
    """A new delivery: to whom, what, when first, and when it climbs if nobody acknowledges it."""

    delivery: Delivery
    message: Message
    send_at: datetime
    escalate_at: datetime | None
    traceparent: str | None


@dataclass(frozen=True)
class Due:
    """A delivery to try (or to climb from) now, with its message, the trace it continues, and when it was planned."""

    delivery: Delivery
    message: Message
    traceparent: str | None
    created_at: datetime


class DeliveryStore(Protocol):
    async def stored_roster(self, agency: str) -> str | None:
        """The agency's own roster as it stored it (JSON), or None for the directory's default."""
        ...

    async def register_roster(self, agency: str, roster: str) -> None:
        """Keep the agency's roster (validated JSON), replacing the one it had."""
        ...

    async def withdraw_roster(self, agency: str) -> None: ...

    async def plan(self, planned: Planned) -> bool:
        """Keep the delivery unless one for the same (cause, agency, role) is kept; True if it is new."""
        ...

    async def due(self, now: datetime, *, limit: int) -> list[Due]:
        """Pending deliveries due by `now`, soonest first; each locked, and skipped by a concurrent caller."""
        ...

    async def save_attempt(self, notification_id: UUID, change: Delivered | TryAgain | Failed) -> None: ...

    async def unacknowledged(self, now: datetime, *, limit: int) -> list[Due]:
        """Delivered, not acknowledged, not yet escalated, and due to climb by `now`; each locked."""
        ...

    async def mark_escalated(self, notification_id: UUID, now: datetime) -> None: ...

    async def record(
        self, event: Event, *, caused_by: Envelope | UUID | None = None, event_id: UUID | None = None
    ) -> Envelope: ...


class PostgresStore(TransactionStore):
    """The store in notify's database, within the caller's transaction on `conn`."""

    async def stored_roster(self, agency: str) -> str | None:
        roster: str | None = await self.conn.fetchval("SELECT roster FROM rosters WHERE agency_id = $1", agency)
        return roster

    async def register_roster(self, agency: str, roster: str) -> None:
        await self.conn.execute(
            "INSERT INTO rosters (agency_id, roster) VALUES ($1, $2)"
            " ON CONFLICT (agency_id) DO UPDATE SET roster = EXCLUDED.roster, updated_at = now()",
            agency,
            roster,
        )

    async def withdraw_roster(self, agency: str) -> None:
        await self.conn.execute("DELETE FROM rosters WHERE agency_id = $1", agency)

    async def plan(self, planned: Planned) -> bool:
        delivery, message = planned.delivery, planned.message
        inserted = await self.conn.fetchval(
            "INSERT INTO deliveries (notification_id, case_id, cause_event_id, category, recipient_agency,"
            " recipient_role, channel, urgency, person, endpoint, language, subject, body, ics, state,"
            " next_attempt_at, escalate_at, trace_id, traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
            " $11, $12, $13, $14, 'pending', $15, $16, $17, $18)"
            " ON CONFLICT (cause_event_id, recipient_agency, recipient_role) DO NOTHING RETURNING true",
            delivery.notification_id,
            delivery.case_id,
            delivery.cause_event_id,
            delivery.category,
            delivery.recipient_agency,
            delivery.recipient_role,
            delivery.channel,
            delivery.urgency,
            message.person,
            message.endpoint,
            message.language,
            message.subject,
            message.body,
            message.ics,
            planned.send_at,
            planned.escalate_at,
            current_trace_id(),
            planned.traceparent,
        )
        return bool(inserted)

    async def due(self, now: datetime, *, limit: int) -> list[Due]:
        rows = await self.conn.fetch(
            "SELECT * FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1"
            " ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [_due(row) for row in rows]

    async def save_attempt(self, notification_id: UUID, change: Delivered | TryAgain | Failed) -> None:
        match change:
            case Delivered(at=at, event_id=event_id):
                await self.conn.execute(
                    "UPDATE deliveries SET state = 'delivered', delivered_at = $2, attempts = attempts + 1,"
                    " event_id = $3 WHERE notification_id = $1",
                    notification_id,
                    at,
                    event_id,
                )
            case TryAgain(at=at, attempts=attempts, error=error):
                await self.conn.execute(
                    "UPDATE deliveries SET attempts = $2, last_error = coalesce($3, last_error), next_attempt_at = $4"
                    " WHERE notification_id = $1",
                    notification_id,
                    attempts,
                    error,
                    at,
                )
            case Failed(attempts=attempts, error=error):
                await self.conn.execute(
                    "UPDATE deliveries SET state = 'failed', attempts = $2, last_error = $3 WHERE notification_id = $1",
                    notification_id,
                    attempts,
                    error,
                )

    async def unacknowledged(self, now: datetime, *, limit: int) -> list[Due]:
        rows = await self.conn.fetch(
            "SELECT * FROM deliveries WHERE state = 'delivered' AND acknowledged_at IS NULL"
            " AND escalated_at IS NULL AND escalate_at <= $1 ORDER BY escalate_at LIMIT $2 FOR UPDATE SKIP LOCKED",
            now,
            limit,
        )
        return [_due(row) for row in rows]

    async def mark_escalated(self, notification_id: UUID, now: datetime) -> None:
        await self.conn.execute(
            "UPDATE deliveries SET escalated_at = $2 WHERE notification_id = $1", notification_id, now
        )


def _due(row: asyncpg.Record) -> Due:
    message = Message(row["endpoint"], row["person"], row["language"], row["subject"], row["body"], row["ics"])
    return Due(_delivery(row), message, row["traceparent"], row["created_at"])


def _delivery(row: asyncpg.Record) -> Delivery:
    return Delivery(
        notification_id=row["notification_id"],
        case_id=row["case_id"],
        cause_event_id=row["cause_event_id"],
        category=row["category"],
        recipient_agency=row["recipient_agency"],
        recipient_role=row["recipient_role"],
        channel=row["channel"],
        urgency=Urgency(row["urgency"]),
        attempts=row["attempts"],
        state=State(row["state"]),
    )
