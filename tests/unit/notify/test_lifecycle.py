"""A delivery's lifecycle, pure: what one try decides (delivered, resting, a retry with backoff, failed), and
whom an unacknowledged notification climbs to."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import NotificationDelivered, NotificationFailed
from schemas.vocabulary import Urgency
from services.notify.lifecycle import (
    COORDINATOR,
    Delivered,
    Delivery,
    Failed,
    Refused,
    Resting,
    RetryPolicy,
    Sent,
    TryAgain,
    decide_attempt,
    next_recipient,
)

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(max_attempts=3, retry_base_seconds=2, retry_max_seconds=5, breaker_open_seconds=60)
EVENT_ID = uuid.uuid4()


def delivery(attempts: int = 0, give_up_at: datetime | None = None) -> Delivery:
    return Delivery(
        notification_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        cause_event_id=uuid.uuid4(),
        category="referral-proposed",
        recipient_agency="ikiiki-zengyo",
        recipient_role="primary",
        channel="email",
        urgency=Urgency.URGENT,
        attempts=attempts,
        give_up_at=give_up_at,
    )


def test_a_message_the_channel_took_is_delivered_and_says_so_under_the_id_given() -> None:
    d = delivery()
    decision = decide_attempt(d, Sent(), NOW, policy=POLICY, event_id=EVENT_ID, jitter=1.0)
    assert decision.change == Delivered(NOW, EVENT_ID) and decision.outcome == "delivered"
    assert isinstance(decision.event, NotificationDelivered)
    assert (decision.event.notification_id, decision.event.delivered_at) == (d.notification_id, NOW)


def test_a_resting_endpoint_spends_no_attempt_and_is_tried_when_its_breaker_may_close() -> None:
    decision = decide_attempt(delivery(attempts=2), Resting(), NOW, policy=POLICY, event_id=EVENT_ID, jitter=1.0)
    assert decision.change == TryAgain(NOW + timedelta(seconds=60), attempts=2)
    assert decision.event is None and decision.outcome == "resting"


@pytest.mark.parametrize(("attempts", "jitter", "wait"), [(0, 1.0, 2.0), (1, 1.0, 4.0), (1, 0.5, 2.0)])
def test_a_refused_try_is_retried_with_capped_jittered_backoff(attempts: int, jitter: float, wait: float) -> None:
    refused = Refused("smtp: 451 try later")
    decision = decide_attempt(delivery(attempts), refused, NOW, policy=POLICY, event_id=EVENT_ID, jitter=jitter)
    assert decision.change == TryAgain(NOW + timedelta(seconds=wait), attempts + 1, "smtp: 451 try later")
    assert decision.event is None and decision.outcome == "retrying"


def test_a_refused_try_at_the_deadline_fails_visibly_with_attempts_left() -> None:
    d = delivery(attempts=0, give_up_at=NOW)
    decision = decide_attempt(d, Refused("webhook: refused"), NOW, policy=POLICY, event_id=EVENT_ID, jitter=1.0)
    assert decision.change == Failed(1, "webhook: refused") and decision.outcome == "failed"
    assert isinstance(decision.event, NotificationFailed) and decision.event.attempts == 1


@pytest.mark.parametrize("tried", [Resting(), Refused("smtp: 451 try later")])
def test_neither_a_rest_nor_a_retry_is_put_off_past_the_deadline(tried: Resting | Refused) -> None:
    soon = NOW + timedelta(seconds=1)
    decision = decide_attempt(delivery(give_up_at=soon), tried, NOW, policy=POLICY, event_id=EVENT_ID, jitter=1.0)
    assert isinstance(decision.change, TryAgain) and decision.change.at == soon


def test_backoff_is_capped() -> None:
    assert POLICY.backoff(10, 1.0) == timedelta(seconds=5)


def test_the_last_refused_try_fails_visibly_with_the_error_cut_short() -> None:
    d = delivery(attempts=2)
    decision = decide_attempt(d, Refused("x" * 500), NOW, policy=POLICY, event_id=EVENT_ID, jitter=1.0)
    assert decision.change == Failed(3, "x" * 500) and decision.outcome == "failed"
    assert isinstance(decision.event, NotificationFailed)
    assert decision.event.attempts == 3 and len(decision.event.last_error) == 300


@pytest.mark.parametrize(
    ("role", "secondary_on_call", "climbs_to"),
    [
        ("primary", True, ("ikiiki-zengyo", "secondary")),
        ("primary", False, ("ikiiki-zengyo", "supervisor")),  # nobody holds the secondary now
        ("secondary", True, ("ikiiki-zengyo", "supervisor")),
        ("supervisor", True, (COORDINATOR, "primary")),
        ("coordinator", True, None),
    ],
)
def test_an_unacknowledged_notification_climbs_the_ladder(
    role: str, secondary_on_call: bool, climbs_to: tuple[str, str] | None
) -> None:
    assert next_recipient(role, "ikiiki-zengyo", secondary_on_call=secondary_on_call) == climbs_to
