"""Notify's store in memory, for the fast tests: it keeps the promises of services.notify.store.DeliveryStore,
and tests/integration/test_notify_store.py runs the same contract suite against it and the real store."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from uuid import UUID

from services.notify.lifecycle import Delivered, Delivery, Failed, State, TryAgain
from services.notify.store import Addressed, Due, Planned
from tests.unit.fakes import RecordingFake


@dataclass
class Kept:
    planned: Planned
    delivery: Delivery
    next_attempt_at: datetime
    last_error: str | None = None
    delivered_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_via: str | None = None
    escalated_at: datetime | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))


@dataclass
class FakeDeliveryStore(RecordingFake):
    rosters: dict[str, str] = field(default_factory=dict)
    deliveries: dict[UUID, Kept] = field(default_factory=dict)
    holding: dict[UUID, set[str]] = field(default_factory=dict)  # case_id -> the agencies that hold it

    async def stored_roster(self, agency: str) -> str | None:
        return self.rosters.get(agency)

    async def register_roster(self, agency: str, roster: str) -> None:
        self.rosters[agency] = roster

    async def withdraw_roster(self, agency: str) -> None:
        self.rosters.pop(agency, None)

    async def plan(self, planned: Planned) -> bool:
        d = planned.delivery
        same = (d.cause_event_id, d.recipient_agency, d.recipient_role)
        if any(
            (k.delivery.cause_event_id, k.delivery.recipient_agency, k.delivery.recipient_role) == same
            for k in self.deliveries.values()
        ):
            return False
        self.deliveries[d.notification_id] = Kept(planned, d, planned.send_at)
        return True

    async def due(self, now: datetime, *, limit: int) -> list[Due]:
        due = sorted(
            (k for k in self.deliveries.values() if k.delivery.state is State.PENDING and k.next_attempt_at <= now),
            key=lambda k: k.next_attempt_at,
        )
        return [Due(k.delivery, k.planned.message, k.planned.traceparent, k.created_at) for k in due[:limit]]

    async def save_attempt(self, notification_id: UUID, change: Delivered | TryAgain | Failed) -> None:
        kept = self.deliveries[notification_id]
        match change:
            case Delivered(at=at):
                kept.delivery = replace(kept.delivery, state=State.DELIVERED, attempts=kept.delivery.attempts + 1)
                kept.delivered_at = at
            case TryAgain(at=at, attempts=attempts, error=error):
                kept.delivery = replace(kept.delivery, attempts=attempts)
                kept.next_attempt_at, kept.last_error = at, error or kept.last_error
            case Failed(attempts=attempts, error=error):
                kept.delivery = replace(kept.delivery, state=State.FAILED, attempts=attempts)
                kept.last_error = error

    async def unacknowledged(self, now: datetime, *, limit: int) -> list[Due]:
        waiting = sorted(
            (
                k
                for k in self.deliveries.values()
                if k.delivery.state is State.DELIVERED
                and k.acknowledged_at is None
                and k.escalated_at is None
                and k.planned.escalate_at is not None
                and k.planned.escalate_at <= now
            ),
            key=lambda k: k.planned.escalate_at or now,
        )
        return [Due(k.delivery, k.planned.message, k.planned.traceparent, k.created_at) for k in waiting[:limit]]

    async def mark_escalated(self, notification_id: UUID, now: datetime) -> None:
        self.deliveries[notification_id].escalated_at = now

    async def addressee(self, notification_id: UUID) -> str | None:
        kept = self.deliveries.get(notification_id)
        return kept.delivery.recipient_agency if kept else None

    async def addressed_for_update(self, notification_id: UUID) -> Addressed | None:
        kept = self.deliveries.get(notification_id)
        if kept is None:
            return None
        return Addressed(kept.delivery.case_id, kept.delivery.recipient_agency, kept.acknowledged_at)

    async def acknowledge(self, notification_id: UUID, at: datetime, via: str) -> None:
        if kept := self.deliveries.get(notification_id):
            kept.acknowledged_at, kept.acknowledged_via = at, via

    async def add_case_agency(self, case_id: UUID, agency: str) -> None:
        self.holding.setdefault(case_id, set()).add(agency)

    async def case_agencies(self, case_id: UUID) -> frozenset[str]:
        return frozenset(self.holding.get(case_id, ()))
