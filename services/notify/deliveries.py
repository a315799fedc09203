"""Planning deliveries (in the consumer's transaction), sending them, retrying, failing visibly, escalating: each
step loads from the store, decides by the delivery's lifecycle (lifecycle.py), and saves what was decided.

Exactly one delivery per (event, recipient): the row's key is derived from the event and the recipient,
and inserting it again does nothing. Sending is at least once — a crash after the channel accepted a
message and before the row is marked sends it again — so the notification id travels with it (Message-ID,
X-Backbone-Delivery) and receivers drop a repeat.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import hmac
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from backbone import keylocks
from backbone.db import Connection
from backbone.directory import Directory
from backbone.loops import Wakeup, keep_running, uninterrupted
from backbone.metrics import ServiceMetrics
from backbone.outbox import Outbox
from backbone.telemetry import context_from_headers, current_traceparent
from schemas.envelope import Envelope
from schemas.events import NotificationEscalated
from schemas.vocabulary import Urgency
from services.notify import channels, messages, rules
from services.notify.lifecycle import (
    Delivered,
    Delivery,
    Outcome,
    Refused,
    Resting,
    RetryPolicy,
    Sent,
    Tried,
    decide_attempt,
    next_recipient,
)
from services.notify.metrics import NotificationMetrics
from services.notify.rosters import Person, Roster, default_roster, on_call
from services.notify.settings import NotifySettings
from services.notify.store import DeliveryStore, Due, Message, Planned, PostgresStore


@dataclass(frozen=True)
class Notifier:
    settings: NotifySettings
    directory: Directory
    outbox: Outbox
    signing_key: bytes

    def webhook_secret(self, agency: str) -> bytes:
        """Each agency's webhook secret, derived from notify's key (shown to the agency by the API)."""
        return hmac.new(self.signing_key, f"webhook:{agency}".encode(), hashlib.sha256).digest()

    def ack_token(self, notification_id: uuid.UUID) -> str:
        return hmac.new(self.signing_key, f"ack:{notification_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def on(self, conn: Connection) -> PostgresStore:
        """The store in the transaction open on `conn`, recording events through this service's outbox."""
        return PostgresStore(conn, self.outbox)

    @property
    def retry_policy(self) -> RetryPolicy:
        settings = self.settings
        return RetryPolicy(
            settings.max_attempts,
            settings.retry_base_seconds,
            settings.retry_max_seconds,
            settings.breaker_open_seconds,
        )

    async def roster(self, store: DeliveryStore, agency: str) -> Roster:
        stored = await store.stored_roster(agency)
        if stored is not None:
            return _parsed_roster(stored)
        entry = self.directory.agency(agency)
        return _default_roster(agency, entry.on_call if entry else f"oncall@{agency}.fujisawa-backbone.invalid")

    async def plan(
        self,
        store: DeliveryStore,
        *,
        cause: Envelope,
        case_id: uuid.UUID,
        recipient: rules.Recipient,
        urgency: Urgency,
        now: datetime,
        ics: str | None = None,
    ) -> bool:
        """Keep the delivery for one recipient (once, however often the event arrives)."""
        roster = await self.roster(store, recipient.agency)
        person = on_call(roster, recipient.role, now) or on_call(roster, "primary", now)  # type: ignore[arg-type]
        if person is None:
            return False
        notification_id = uuid.uuid5(cause.id, f"{recipient.agency}/{recipient.role}")
        link = f"{self.settings.public_base_url}/v1/ack/{notification_id}?token={self.ack_token(notification_id)}"
        text = messages.render(
            recipient.category,
            person.language,
            case_id=str(case_id),
            notification_id=str(notification_id),
            urgency=urgency,
            ack_link=link,
        )
        channel, endpoint = _endpoint(person)
        needs_ack = recipient.category in rules.NEEDS_ACKNOWLEDGEMENT
        wait = timedelta(
            minutes=self.settings.ack_urgent_minutes if urgency is Urgency.URGENT else self.settings.ack_normal_minutes
        )
        send_at = rules.send_at(now, urgency, self.settings.quiet_start, self.settings.quiet_end)
        delivery = Delivery(
            notification_id,
            case_id,
            cause.id,
            recipient.category,
            recipient.agency,
            recipient.role,
            channel,
            urgency,
            0,
            give_up_at=send_at + timedelta(minutes=self.settings.give_up_minutes),
        )
        return await store.plan(
            Planned(
                delivery,
                Message(endpoint, person.id, person.language, text.subject, text.body, ics),
                send_at=send_at,
                escalate_at=now + wait if needs_ack else None,
                traceparent=current_traceparent(),
            )
        )


# A roster's validation (no gaps, no overlaps) walks every minute of the week, and every notification reads
# its recipient's roster: parse each stored version once. Rosters are immutable models, safe to share.
@functools.lru_cache(maxsize=512)
def _parsed_roster(stored: str) -> Roster:
    return Roster.model_validate_json(stored)


@functools.lru_cache(maxsize=512)
def _default_roster(agency: str, on_call_address: str) -> Roster:
    return default_roster(agency, on_call_address)


def _endpoint(person: Person) -> tuple[str, str]:
    if person.webhook is not None:
        return "webhook", str(person.webhook)
    assert person.email is not None
    return "email", person.email


class Dispatcher:
    """Sends due deliveries, concurrently and each with a timeout, so a slow endpoint holds up nobody else."""

    def __init__(
        self,
        pool: asyncpg.Pool,
        notifier: Notifier,
        tracer: trace.Tracer,
        *,
        clock: Callable[[], datetime] | None = None,
        batch: int = 50,
        metrics: NotificationMetrics | None = None,
    ) -> None:
        self.pool = pool
        self.tracer = tracer
        self.notifier = notifier
        self.clock = clock or (lambda: datetime.now(UTC))
        self.batch = batch
        self.metrics = metrics or NotificationMetrics.on(ServiceMetrics())
        settings = notifier.settings
        self.breakers = channels.CircuitBreakers(
            settings.breaker_failures, settings.breaker_open_seconds, probe_seconds=settings.send_timeout_seconds
        )
        self._mail_server = f"smtp://{settings.smtp_host}:{settings.smtp_port}"
        self.http = httpx.AsyncClient(timeout=settings.send_timeout_seconds)
        self.mailer = channels.Mailer(settings)
        # Woken when deliveries are planned; the poll finds retries and escalations that fall due.
        self.wakeup = Wakeup(pool, "deliveries", settings.poll_seconds)

    async def run(self) -> None:
        try:
            async with self.wakeup.listening():
                await keep_running("notify dispatcher", self._step, idle=self.wakeup.wait)
        finally:
            await self.http.aclose()
            await self.mailer.close()

    async def _step(self) -> int:
        return await self.send_due() + await self.escalate_due()

    async def send_due(self) -> int:
        # A graceful stop lets the batch finish: sent messages are then recorded as sent, not sent again.
        return await uninterrupted(self._send_due())

    async def _send_due(self) -> int:
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            store = self.notifier.on(conn)
            due = await store.due(now, limit=self.batch)
            tries = await asyncio.gather(*(self._send(each, now) for each in due))
            # Every case's lock at once and sorted, after the sends, before the events (backbone/keylocks.py).
            await keylocks.hold(conn, *(str(each.delivery.case_id) for each in due))
            now = self.clock()  # delivered (or failed) when the sends finished, not when they were picked
            outcomes: list[Outcome] = []
            for each, tried in zip(due, tries, strict=True):
                # Continue the trace of the event that caused the notification, not the dispatcher's own.
                with self.tracer.start_as_current_span(
                    f"notify {each.delivery.channel} send",
                    context=context_from_headers({"traceparent": each.traceparent or ""}),
                    kind=SpanKind.CLIENT,
                    attributes={
                        "backbone.outcome": "sent" if isinstance(tried, Sent) else "retry",
                        "backbone.category": each.delivery.category,
                    },
                ):
                    outcomes.append(await self._record(store, each.delivery, tried, now))
        # Observed once the rows are committed as delivered or failed, so that a rollback counts nothing.
        for each, outcome in zip(due, outcomes, strict=True):
            if outcome == "delivered":
                self.metrics.delivered(created_at=each.created_at, delivered_at=now)
            elif outcome == "failed":
                self.metrics.failed.inc()
        return len(due)

    async def _send(self, due: Due, now: datetime) -> Tried:
        """Try the channel once, unless the endpoint rests and the delivery's deadline has not come."""
        delivery, message = due.delivery, due.message
        endpoint = message.endpoint
        # E-mail rests on the mail server, which every address shares: its breaker is the server's. A webhook's is
        # its own URL's.
        key = self._mail_server if delivery.channel == "email" else endpoint
        if not delivery.out_of_time(now) and not self.breakers.allows(key, time.monotonic()):
            return Resting()
        outgoing = channels.Outgoing(
            notification_id=str(delivery.notification_id),
            to=endpoint,
            subject=message.subject,
            body=message.body,
            category=delivery.category,
            case_id=str(delivery.case_id),
            urgency=delivery.urgency,
            ics=message.ics,
        )
        try:
            async with asyncio.timeout(self.notifier.settings.send_timeout_seconds):
                if delivery.channel == "webhook":
                    await channels.send_webhook(
                        self.http, self.notifier.webhook_secret(delivery.recipient_agency), outgoing
                    )
                else:
                    await self.mailer.send(outgoing)
        except channels.DeliveryError as error:
            # The mail server refusing one message or recipient is up all the same.
            server_up = delivery.channel == "email" and not isinstance(error, channels.ChannelDownError)
            self.breakers.record(key, ok=server_up, now=time.monotonic())
            return Refused(str(error))
        except TimeoutError:
            self.breakers.record(key, ok=False, now=time.monotonic())
            return Refused(f"{delivery.channel}: no answer within {self.notifier.settings.send_timeout_seconds:.0f}s")
        self.breakers.record(key, ok=True, now=time.monotonic())
        return Sent()

    async def _record(self, store: DeliveryStore, delivery: Delivery, tried: Tried, now: datetime) -> Outcome:
        decision = decide_attempt(
            delivery,
            tried,
            now,
            policy=self.notifier.retry_policy,
            event_id=uuid.uuid4(),
            jitter=random.uniform(0.5, 1.0),  # noqa: S311 - jitter, not security
        )
        await store.save_attempt(delivery.notification_id, decision.change)
        if decision.event is not None:
            event_id = decision.change.event_id if isinstance(decision.change, Delivered) else None
            await store.record(decision.event, caused_by=delivery.cause_event_id, event_id=event_id)
        return decision.outcome

    async def escalate_due(self) -> int:
        """Delivered but unacknowledged past its time: the next rung of the ladder is told."""
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            store = self.notifier.on(conn)
            unanswered = await store.unacknowledged(now, limit=self.batch)
            await keylocks.hold(conn, *(str(due.delivery.case_id) for due in unanswered))
            for due in unanswered:
                # The climb continues the trace of the event that caused the notification, as its send did.
                with self.tracer.start_as_current_span(
                    "notify escalate",
                    context=context_from_headers({"traceparent": due.traceparent or ""}),
                    attributes={"backbone.category": due.delivery.category},
                ):
                    await self._climb(store, due.delivery, now)
        return len(unanswered)

    async def _climb(self, store: DeliveryStore, delivery: Delivery, now: datetime) -> None:
        await store.mark_escalated(delivery.notification_id, now)
        # The roster is read only when the next rung is its secondary, whom the ladder skips if nobody holds it now.
        secondary_on_call = rules.next_rung(delivery.recipient_role) == "secondary" and (
            on_call(await self.notifier.roster(store, delivery.recipient_agency), "secondary", now) is not None
        )
        climb = next_recipient(delivery.recipient_role, delivery.recipient_agency, secondary_on_call=secondary_on_call)
        if climb is None:
            return
        agency, role = climb
        cause = Envelope(
            id=delivery.notification_id,
            source="/fujisawa/backbone/notify",
            type="escalation",
            time=now,
            correlationid=str(delivery.case_id),
        )
        planned = await self.notifier.plan(
            store,
            cause=cause,
            case_id=delivery.case_id,
            recipient=rules.Recipient(agency, role, "referral-escalated"),
            urgency=delivery.urgency,
            now=now,
        )
        if planned:
            await store.record(
                NotificationEscalated(
                    case_id=delivery.case_id,
                    notification_id=delivery.notification_id,
                    next_notification_id=uuid.uuid5(delivery.notification_id, f"{agency}/{role}"),
                    recipient_agency=agency,
                    from_role=delivery.recipient_role,
                    to_role=role,
                    escalated_at=now,
                ),
            )
