"""One contract suite for notify's store, run against the fake the fast tests use (tests/unit/notify/fakes.py) and
the real PostgreSQL store. Each real case runs in a transaction that is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from backbone.outbox import Outbox
from schemas.events import NotificationDelivered
from schemas.vocabulary import Urgency
from services.notify.lifecycle import Delivered, Delivery, Failed, State, TryAgain
from services.notify.store import Addressed, DeliveryStore, Due, Message, Planned, PostgresStore
from tests.integration.stores import fake_and_real, with_tables
from tests.unit.notify.fakes import FakeDeliveryStore

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
MINUTE = timedelta(minutes=1)


@pytest.fixture(params=["fake", "postgres"])
async def store(request: pytest.FixtureRequest, pool: asyncpg.Pool) -> AsyncIterator[DeliveryStore]:
    async for each in fake_and_real(request, pool, FakeDeliveryStore, PostgresStore, service="notify"):
        yield each


def planned(*, cause: uuid.UUID | None = None, role: str = "primary", escalate: bool = True) -> Planned:
    delivery = Delivery(
        notification_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        cause_event_id=cause or uuid.uuid4(),
        category="referral-proposed",
        recipient_agency="ikiiki-zengyo",
        recipient_role=role,
        channel="email",
        urgency=Urgency.URGENT,
        attempts=0,
        give_up_at=NOW + 10 * MINUTE,
    )
    message = Message("oncall@ikiiki-zengyo.invalid", "p-1", "ja", "件名", "本文", None)
    return Planned(
        delivery, message, send_at=NOW, escalate_at=NOW + 15 * MINUTE if escalate else None, traceparent=None
    )


async def mine(store: DeliveryStore, planned_ids: set[uuid.UUID], now: datetime) -> list[uuid.UUID]:
    return [
        d.delivery.notification_id
        for d in await store.due(now, limit=10_000)
        if d.delivery.notification_id in planned_ids
    ]


async def test_a_delivery_is_planned_once_per_cause_agency_and_role(store: DeliveryStore) -> None:
    cause = uuid.uuid4()
    first = planned(cause=cause)
    assert await store.plan(first)
    assert not await store.plan(planned(cause=cause))  # the same event, heard again
    assert await store.plan(planned(cause=cause, role="supervisor"))


async def test_a_planned_delivery_is_due_from_its_send_time_with_its_message(store: DeliveryStore) -> None:
    p = planned()
    await store.plan(p)
    assert await mine(store, {p.delivery.notification_id}, NOW - MINUTE) == []
    (due,) = [d for d in await store.due(NOW, limit=10_000) if d.delivery.notification_id == p.delivery.notification_id]
    assert due.delivery == p.delivery and due.message == p.message and due.delivery.state is State.PENDING


async def test_a_retry_waits_and_counts_its_attempts(store: DeliveryStore) -> None:
    p = planned()
    await store.plan(p)
    ids = {p.delivery.notification_id}
    await store.save_attempt(p.delivery.notification_id, TryAgain(NOW + 5 * MINUTE, 1, "smtp: 451"))
    assert await mine(store, ids, NOW + 4 * MINUTE) == []
    (due,) = [d for d in await store.due(NOW + 5 * MINUTE, limit=10_000) if d.delivery.notification_id in ids]
    assert due.delivery.attempts == 1
    await store.save_attempt(p.delivery.notification_id, Failed(2, "smtp: 550"))
    assert await mine(store, ids, NOW + 60 * MINUTE) == []


async def test_a_delivered_notification_climbs_once_when_unacknowledged(store: DeliveryStore) -> None:
    p, quiet = planned(), planned(escalate=False)
    for each in (p, quiet):
        await store.plan(each)
        await store.save_attempt(each.delivery.notification_id, Delivered(NOW, uuid.uuid4()))
    ids = {p.delivery.notification_id, quiet.delivery.notification_id}
    assert await mine(store, ids, NOW + 60 * MINUTE) == []  # delivered is not due again

    def waiting(found: list[Due]) -> list[uuid.UUID]:
        return [d.delivery.notification_id for d in found if d.delivery.notification_id in ids]

    assert waiting(await store.unacknowledged(NOW + 14 * MINUTE, limit=10_000)) == []
    climbing = [d.delivery for d in await store.unacknowledged(NOW + 15 * MINUTE, limit=10_000)]
    climbing = [d for d in climbing if d.notification_id in ids]
    assert [d.notification_id for d in climbing] == [p.delivery.notification_id]  # the one that needs an answer
    assert climbing[0].state is State.DELIVERED and climbing[0].attempts == 1
    await store.mark_escalated(p.delivery.notification_id, NOW + 15 * MINUTE)
    assert waiting(await store.unacknowledged(NOW + 60 * MINUTE, limit=10_000)) == []


async def test_an_agencys_roster_is_kept_until_withdrawn(store: DeliveryStore) -> None:
    agency = f"test-agency-{uuid.uuid4().hex[:8]}"
    assert await store.stored_roster(agency) is None
    await store.register_roster(agency, '{"agency": "a"}')
    await store.register_roster(agency, '{"agency": "b"}')
    assert await store.stored_roster(agency) == '{"agency": "b"}'
    await store.withdraw_roster(agency)
    assert await store.stored_roster(agency) is None


async def test_recorded_events_carry_their_cause_and_the_id_asked_for(store: DeliveryStore) -> None:
    p = planned()
    d = p.delivery
    event = NotificationDelivered(
        case_id=d.case_id, notification_id=d.notification_id, cause_event_id=d.cause_event_id, category=d.category,
        recipient_agency=d.recipient_agency, recipient_role=d.recipient_role, channel=d.channel, urgency=d.urgency,
        delivered_at=NOW,
    )  # fmt: skip
    wanted = uuid.uuid4()
    envelope = await store.record(event, caused_by=d.cause_event_id, event_id=wanted)
    assert envelope.id == wanted and envelope.causationid == str(d.cause_event_id)


async def test_a_notification_is_acknowledged_by_its_addressee_once_and_then_climbs_no_more(
    store: DeliveryStore,
) -> None:
    p = planned()
    d = p.delivery
    await store.plan(p)
    await store.save_attempt(d.notification_id, Delivered(NOW, uuid.uuid4()))
    unknown = uuid.uuid4()
    assert await store.addressee(unknown) is None and await store.addressed_for_update(unknown) is None
    assert await store.addressee(d.notification_id) == "ikiiki-zengyo"
    assert await store.addressed_for_update(d.notification_id) == Addressed(d.case_id, "ikiiki-zengyo", None)
    await store.acknowledge(d.notification_id, NOW + 5 * MINUTE, "link")
    addressed = await store.addressed_for_update(d.notification_id)
    assert addressed == Addressed(d.case_id, "ikiiki-zengyo", NOW + 5 * MINUTE)
    waiting = await store.unacknowledged(NOW + 60 * MINUTE, limit=10_000)
    assert d.notification_id not in {w.delivery.notification_id for w in waiting}


async def test_a_case_remembers_each_agency_that_holds_it_once(store: DeliveryStore) -> None:
    case, other = uuid.uuid4(), uuid.uuid4()
    assert await store.case_agencies(case) == frozenset()
    for agency in ("ikiiki-zengyo", "fujisawa-shakyo", "ikiiki-zengyo"):  # a proposal heard again, then accepted
        await store.add_case_agency(case, agency)
    await store.add_case_agency(other, "ikiiki-katase")
    assert await store.case_agencies(case) == {"ikiiki-zengyo", "fujisawa-shakyo"}


async def test_a_notification_being_acknowledged_is_locked_until_that_transaction_ends(pool: asyncpg.Pool) -> None:
    """PostgreSQL only (the fake has no concurrent callers): a second acknowledgement waits for the first."""
    await with_tables(pool, "notify")
    p = planned(escalate=False)
    outbox = Outbox(source="/tests/store")
    async with pool.acquire() as conn:
        await PostgresStore(conn, outbox).plan(p)  # committed, so that another connection sees it
    try:
        async with pool.acquire() as first, first.transaction(), pool.acquire() as second, second.transaction():
            assert await PostgresStore(first, outbox).addressed_for_update(p.delivery.notification_id) is not None
            await second.execute("SET LOCAL lock_timeout = '200ms'")
            with pytest.raises(asyncpg.LockNotAvailableError):
                await PostgresStore(second, outbox).addressed_for_update(p.delivery.notification_id)
    finally:
        await pool.execute("DELETE FROM deliveries WHERE notification_id = $1", p.delivery.notification_id)
