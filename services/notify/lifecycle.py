"""A delivery's lifecycle, as pure functions: what one attempt to send decides, and whom an unacknowledged one
climbs to. `deliveries.py` loads the due deliveries, sends them, decides with these, and saves what was decided.

    pending ──sent──────────────────▶ delivered ──acknowledged (acknowledgement.py)
      │ ▲ └─refused, attempts left──┐     │
      │ └───────retry (backoff)─────┘     └─unacknowledged past escalate_at──▶ escalated (the next rung told)
      ├─channel resting (its breaker open: the mail server's, a webhook URL's): no attempt spent, tried again soon
      └─refused, no attempts left or past its deadline──▶ failed (NotificationFailed: a person must look)

Every retry and every rest ends by the delivery's deadline (`give_up_at`), where it gets a last try of its own even
past an open breaker. So a person learns of a dead endpoint by then, however many deliveries wait on it: behind
one breaker they would otherwise take turns at its single probe, and the last in line could wait for hours.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal, TypeAlias
from uuid import UUID

from schemas.events import NotificationDelivered, NotificationFailed
from schemas.vocabulary import Urgency
from services.notify import rules

COORDINATOR = "backup-fujisawa-shakyo"  # the rung above an agency's supervisor (多機関協働)


class State(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    FAILED = "failed"


@dataclass(frozen=True)
class Delivery:
    """A planned notification as the decisions see it."""

    notification_id: UUID
    case_id: UUID
    cause_event_id: UUID
    category: str
    recipient_agency: str
    recipient_role: str
    channel: str
    urgency: Urgency
    attempts: int
    state: State = State.PENDING
    give_up_at: datetime | None = None
    """The deadline of a pending delivery: its last try, and failed if that fails too (None when it has none)."""

    def out_of_time(self, now: datetime) -> bool:
        return self.give_up_at is not None and now >= self.give_up_at

    def by_deadline(self, at: datetime) -> datetime:
        """`at`, or the deadline if that comes first: the last try is not put off past it."""
        return at if self.give_up_at is None else min(at, self.give_up_at)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int
    retry_base_seconds: float
    retry_max_seconds: float
    breaker_open_seconds: float

    def backoff(self, attempts: int, jitter: float) -> timedelta:
        """How long after its `attempts`-th failed try a delivery is tried again; `jitter` in [0.5, 1] spreads
        the retries of many deliveries that failed together."""
        seconds = min(self.retry_base_seconds * 2 ** (attempts - 1), self.retry_max_seconds)
        return timedelta(seconds=seconds * jitter)


# --- what a try came to (the commands) ---


@dataclass(frozen=True)
class Sent:
    """The channel took the message."""


@dataclass(frozen=True)
class Resting:
    """Not tried: the endpoint's circuit breaker is open."""


@dataclass(frozen=True)
class Refused:
    """Tried, and the channel refused or did not answer; why, in the operator's words (no personal data)."""

    error: str


Tried: TypeAlias = Sent | Resting | Refused

# --- what it decides ---


@dataclass(frozen=True)
class Delivered:
    at: datetime
    event_id: UUID


@dataclass(frozen=True)
class TryAgain:
    at: datetime
    attempts: int
    """The attempts spent so far (unchanged when the endpoint was resting)."""
    error: str | None = None


@dataclass(frozen=True)
class Failed:
    attempts: int
    error: str


Outcome: TypeAlias = Literal["delivered", "resting", "retrying", "failed"]


@dataclass(frozen=True)
class AttemptDecision:
    change: Delivered | TryAgain | Failed
    event: NotificationDelivered | NotificationFailed | None
    outcome: Outcome


def decide_attempt(
    delivery: Delivery, tried: Tried, now: datetime, *, policy: RetryPolicy, event_id: UUID, jitter: float
) -> AttemptDecision:
    """What one try of a pending delivery comes to. `event_id` names the NotificationDelivered if it is one."""
    said = {
        "case_id": delivery.case_id,
        "notification_id": delivery.notification_id,
        "cause_event_id": delivery.cause_event_id,
        "category": delivery.category,
        "recipient_agency": delivery.recipient_agency,
        "recipient_role": delivery.recipient_role,
        "channel": delivery.channel,
    }
    match tried:
        case Sent():
            delivered = NotificationDelivered(**said, urgency=delivery.urgency, delivered_at=now)
            return AttemptDecision(Delivered(now, event_id), delivered, "delivered")
        case Resting():
            again = delivery.by_deadline(now + timedelta(seconds=policy.breaker_open_seconds))
            rest = TryAgain(again, delivery.attempts)
            return AttemptDecision(rest, None, "resting")
        case Refused(error=error):
            attempts = delivery.attempts + 1
            if attempts >= policy.max_attempts or delivery.out_of_time(now):
                failed = NotificationFailed(**said, attempts=attempts, last_error=error[:300], failed_at=now)
                return AttemptDecision(Failed(attempts, error), failed, "failed")
            retry = TryAgain(delivery.by_deadline(now + policy.backoff(attempts, jitter)), attempts, error)
            return AttemptDecision(retry, None, "retrying")


def next_recipient(recipient_role: str, agency: str, *, secondary_on_call: bool) -> tuple[str, str] | None:
    """Whom an unacknowledged notification climbs to, as (agency, role): the next rung of the ladder
    (rules.next_rung), skipping a secondary nobody holds now; None at the top."""
    rung = rules.next_rung(recipient_role)
    if rung == "secondary" and not secondary_on_call:
        rung = "supervisor"
    if rung is None:
        return None
    return (COORDINATOR, "primary") if rung == "coordinator" else (agency, rung)
