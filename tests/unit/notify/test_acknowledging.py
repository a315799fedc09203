"""Acknowledging over the fake store: the agency a notification was addressed to acknowledges it once, however
often it asks; any other agency, and an unknown id, get the same 404 and change nothing."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from fastapi.responses import JSONResponse

from backbone import directory
from backbone.outbox import Outbox
from schemas.envelope import Envelope
from schemas.events import NotificationAcknowledged, ReferralProposed
from schemas.vocabulary import Urgency
from services.notify.api import record_acknowledgement
from services.notify.deliveries import Notifier
from services.notify.lifecycle import Delivered
from services.notify.rules import Recipient
from services.notify.settings import NotifySettings
from tests.unit.notify.fakes import FakeDeliveryStore

NOTIFIER = Notifier(NotifySettings(), directory.load(), Outbox(source="/notify"), b"k" * 32)
MIDDAY = datetime(2026, 12, 3, 3, 0, tzinfo=UTC)  # 12:00 in Tokyo
PROPOSED = Recipient("ikiiki-zengyo", "primary", "referral-proposed")


async def delivered(store: FakeDeliveryStore) -> uuid.UUID:
    cause = Envelope(id=uuid.uuid4(), source="/referral", type=ReferralProposed.TYPE, time=MIDDAY, correlationid="c")
    await NOTIFIER.plan(
        store, cause=cause, case_id=uuid.uuid4(), recipient=PROPOSED, urgency=Urgency.URGENT, now=MIDDAY
    )
    (kept,) = store.deliveries.values()
    await store.save_attempt(kept.delivery.notification_id, Delivered(MIDDAY, uuid.uuid4()))
    return kept.delivery.notification_id


async def test_the_addressee_acknowledges_once_however_often_it_asks() -> None:
    store = FakeDeliveryStore()
    notification_id = await delivered(store)
    for via in ("link", "api"):
        answer = await record_acknowledgement(store, notification_id, "ikiiki-zengyo", via, by_staff=None)
        assert answer == {"notification_id": notification_id, "acknowledged": True}
    (acknowledged,) = store.events(NotificationAcknowledged)
    assert isinstance(acknowledged, NotificationAcknowledged) and acknowledged.via == "link"
    kept = store.deliveries[notification_id]
    assert kept.acknowledged_via == "link" and kept.acknowledged_at is not None
    assert await store.unacknowledged(datetime(2027, 1, 1, tzinfo=UTC), limit=10) == []  # it climbs no more


async def test_another_agency_and_an_unknown_id_get_the_same_404_and_change_nothing() -> None:
    store = FakeDeliveryStore()
    notification_id = await delivered(store)
    for asked, agency in ((notification_id, "ikiiki-katase"), (uuid.uuid4(), "ikiiki-zengyo")):
        answer = await record_acknowledgement(store, asked, agency, "api")
        assert isinstance(answer, JSONResponse) and answer.status_code == 404
    assert store.recorded == [] and store.deliveries[notification_id].acknowledged_at is None
