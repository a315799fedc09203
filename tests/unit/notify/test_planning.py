"""Planning and climbing over the fake store: one delivery per recipient however often the event arrives, the
quiet hours, and the ladder an unacknowledged notification climbs, with no database and no mail server."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from opentelemetry.sdk.trace import TracerProvider

from backbone import directory
from backbone.outbox import Outbox
from schemas.envelope import Envelope
from schemas.events import NotificationEscalated, ReferralProposed
from schemas.vocabulary import Urgency
from services.notify.deliveries import Dispatcher, Notifier
from services.notify.lifecycle import Delivered
from services.notify.rules import Recipient
from services.notify.settings import NotifySettings
from tests.unit.notify.fakes import FakeDeliveryStore

NOTIFIER = Notifier(NotifySettings(), directory.load(), Outbox(source="/notify"), b"k" * 32)
MIDDAY = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
NIGHT = datetime(2026, 12, 3, 14, 0, tzinfo=UTC)  # 23:00 in Tokyo
PROPOSED = Recipient("ikiiki-zengyo", "primary", "referral-proposed")


def cause() -> Envelope:
    return Envelope(id=uuid.uuid4(), source="/referral", type=ReferralProposed.TYPE, time=MIDDAY, correlationid="c")


async def test_one_delivery_per_recipient_however_often_the_event_arrives() -> None:
    store, event, case_id = FakeDeliveryStore(), cause(), uuid.uuid4()
    for _ in range(3):
        await NOTIFIER.plan(store, cause=event, case_id=case_id, recipient=PROPOSED, urgency=Urgency.NORMAL, now=MIDDAY)
    (kept,) = store.deliveries.values()
    assert kept.delivery.notification_id == uuid.uuid5(event.id, "ikiiki-zengyo/primary")
    assert kept.planned.message.endpoint == "oncall@ikiiki-zengyo.fujisawa-backbone.invalid"  # the default roster
    assert "token=" in kept.planned.message.body  # the acknowledgement link
    assert kept.planned.send_at == MIDDAY and kept.planned.escalate_at == MIDDAY + timedelta(minutes=240)


async def test_at_night_a_normal_notification_waits_for_the_morning_and_an_urgent_one_does_not() -> None:
    store = FakeDeliveryStore()
    for urgency in (Urgency.NORMAL, Urgency.URGENT):
        await NOTIFIER.plan(store, cause=cause(), case_id=uuid.uuid4(), recipient=PROPOSED, urgency=urgency, now=NIGHT)
    normal, urgent = store.deliveries.values()
    assert normal.planned.send_at == datetime(2026, 12, 3, 23, 0, tzinfo=UTC)  # 08:00 in Tokyo
    assert urgent.planned.send_at == NIGHT
    # The deadline runs from when a delivery is due, not from when it was planned: the night is not held against it.
    assert normal.delivery.give_up_at == normal.planned.send_at + timedelta(minutes=10)
    assert urgent.delivery.give_up_at == NIGHT + timedelta(minutes=10)


async def test_an_unacknowledged_notification_is_planned_for_the_next_rung_and_says_so() -> None:
    store = FakeDeliveryStore()
    urgent = Urgency.URGENT
    await NOTIFIER.plan(store, cause=cause(), case_id=uuid.uuid4(), recipient=PROPOSED, urgency=urgent, now=MIDDAY)
    (first,) = store.deliveries.values()
    await store.save_attempt(first.delivery.notification_id, Delivered(MIDDAY, uuid.uuid4()))
    dispatcher = Dispatcher(pool=None, notifier=NOTIFIER, tracer=TracerProvider().get_tracer("t"))  # type: ignore[arg-type]
    later = MIDDAY + timedelta(minutes=16)
    try:
        for due in await store.unacknowledged(later, limit=10):
            await dispatcher._climb(store, due.delivery, later)
    finally:
        await dispatcher.http.aclose()
    (_, escalated), *_ = store.recorded
    assert isinstance(escalated, NotificationEscalated)
    # The default roster has nobody as secondary: the supervisor is next.
    climbed = (escalated.from_role, escalated.to_role, escalated.recipient_agency)
    assert climbed == ("primary", "supervisor", "ikiiki-zengyo")
    assert escalated.next_notification_id in store.deliveries
    assert await store.unacknowledged(later + timedelta(days=1), limit=10) == []  # climbed once
