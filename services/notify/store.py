"""Where notify keeps its deliveries, rosters and the agencies of each case: every statement of the service's SQL.

`DeliveryStore` says what planning, sending, escalating, acknowledging and learning who holds a case need;
`PostgresStore` does it in the caller's transaction, recording events through the outbox so that a step and its
events commit together. tests/unit/notify/fakes.py keeps the same promises in memory, and
tests/integration/test_notify_store.py holds both to them.

What only the HTTP pages show (the notifications lists, the facts on an acknowledgement link's page) is read at
the end of this module, by plain functions on the pool rather than by the store: no decision depends on them,
they answer outside any transaction (as a page read should), and their rows go out as the API shows them, columns
the fake has no reason to keep (trace ids, how an acknowledgement came). Putting them on the protocol would make
the fake imitate a page instead of a promise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal, Protocol, TypeAlias
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


@dataclass(frozen=True)
class Addressed:
    """A notification as acknowledging it needs it: its case, the agency it was addressed to, and when that agency
    acknowledged it (None: not yet)."""

    case_id: UUID
    recipient_agency: str
    acknowledged_at: datetime | None


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

    async def addressee(self, notification_id: UUID) -> str | None:
        """The agency the notification was addressed to; None if there is no such notification."""
        ...

    async def addressed_for_update(self, notification_id: UUID) -> Addressed | None:
        """The notification as acknowledging needs it, locked until the transaction ends; None if there is none."""
        ...

    async def acknowledge(self, notification_id: UUID, at: datetime, via: str) -> None:
        """Keep that the notification was acknowledged at `at` by `via` (link, api or webhook): it climbs no more."""
        ...

    async def add_case_agency(self, case_id: UUID, agency: str) -> None:
        """Remember that the agency holds the case (was referred it, or accepted it); once, however often heard."""
        ...

    async def case_agencies(self, case_id: UUID) -> frozenset[str]:
        """The agencies remembered as holding the case (none for a case never heard of)."""
        ...

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
            " next_attempt_at, escalate_at, trace_id, traceparent, give_up_at) VALUES ($1, $2, $3, $4, $5, $6, $7,"
            " $8, $9, $10, $11, $12, $13, $14, 'pending', $15, $16, $17, $18, $19)"
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
            delivery.give_up_at,
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

    async def addressee(self, notification_id: UUID) -> str | None:
        agency: str | None = await self.conn.fetchval(
            "SELECT recipient_agency FROM deliveries WHERE notification_id = $1", notification_id
        )
        return agency

    async def addressed_for_update(self, notification_id: UUID) -> Addressed | None:
        row = await self.conn.fetchrow(
            "SELECT case_id, recipient_agency, acknowledged_at FROM deliveries WHERE notification_id = $1 FOR UPDATE",
            notification_id,
        )
        if row is None:
            return None
        return Addressed(row["case_id"], row["recipient_agency"], row["acknowledged_at"])

    async def acknowledge(self, notification_id: UUID, at: datetime, via: str) -> None:
        await self.conn.execute(
            "UPDATE deliveries SET acknowledged_at = $2, acknowledged_via = $3 WHERE notification_id = $1",
            notification_id,
            at,
            via,
        )

    async def add_case_agency(self, case_id: UUID, agency: str) -> None:
        await self.conn.execute(
            "INSERT INTO case_agencies (case_id, agency_id) VALUES ($1, $2) ON CONFLICT DO NOTHING", case_id, agency
        )

    async def case_agencies(self, case_id: UUID) -> frozenset[str]:
        rows = await self.conn.fetch("SELECT agency_id FROM case_agencies WHERE case_id = $1", case_id)
        return frozenset(row["agency_id"] for row in rows)


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
        give_up_at=row["give_up_at"],
    )


# --- What the HTTP pages show: reads on the pool, outside any transaction, that no decision depends on ---

Row: TypeAlias = dict[str, Any]
"""A row as a page shows it: the column names and their values."""

Acknowledged: TypeAlias = Literal["open", "acknowledged"] | None
"""Which notifications a list shows: not acknowledged yet, acknowledged, or (None) both."""

_VIEW = (
    "notification_id, case_id, cause_event_id, category, recipient_agency, recipient_role, channel, urgency,"
    " state, attempts, last_error, delivered_at, acknowledged_at, acknowledged_via, escalated_at, event_id, trace_id,"
    " created_at"
)
_ACKNOWLEDGED = {"open": "acknowledged_at IS NULL", "acknowledged": "acknowledged_at IS NOT NULL", None: "true"}


async def notifications_to(pool: asyncpg.Pool, agency: str, *, acknowledged: Acknowledged, limit: int) -> list[Row]:
    """The notifications addressed to the agency: unacknowledged first, then newest first; at most `limit`."""
    rows = await pool.fetch(
        f"SELECT {_VIEW} FROM deliveries WHERE recipient_agency = $1 AND {_ACKNOWLEDGED[acknowledged]}"  # noqa: S608 - constants
        " ORDER BY acknowledged_at IS NOT NULL, created_at DESC, notification_id LIMIT $2",
        agency,
        limit,
    )
    return [dict(row) for row in rows]


async def notifications_of_case(
    pool: asyncpg.Pool, case_id: UUID, *, acknowledged: Acknowledged, limit: int
) -> list[Row]:
    """The case's notifications so far, to whichever agency, oldest first; at most `limit`."""
    rows = await pool.fetch(
        f"SELECT {_VIEW} FROM deliveries WHERE case_id = $1 AND {_ACKNOWLEDGED[acknowledged]}"  # noqa: S608 - constants
        " ORDER BY created_at LIMIT $2",
        case_id,
        limit,
    )
    return [dict(row) for row in rows]


async def acknowledgement_facts(pool: asyncpg.Pool, notification_id: UUID) -> Row | None:
    """What an acknowledgement link's page shows: ids, codes and times only (never the person on call, the address
    or the body); None if there is no such notification."""
    row = await pool.fetchrow(
        "SELECT case_id, category, urgency, delivered_at, created_at, acknowledged_at FROM deliveries"
        " WHERE notification_id = $1",
        notification_id,
    )
    return None if row is None else dict(row)
