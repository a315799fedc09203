"""Planning deliveries (in the consumer's transaction), sending them, retrying, failing visibly, escalating.

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
from typing import Literal

import asyncpg
import httpx
from opentelemetry import trace
from opentelemetry.trace import SpanKind

from backbone.db import Connection
from backbone.directory import Directory
from backbone.loops import Wakeup, keep_running, uninterrupted
from backbone.metrics import ServiceMetrics
from backbone.outbox import Outbox
from backbone.telemetry import context_from_headers, current_trace_id, inject_trace_headers
from schemas.envelope import Envelope
from schemas.events import NotificationDelivered, NotificationEscalated, NotificationFailed
from schemas.vocabulary import Urgency
from services.notify import channels, messages, rules
from services.notify.metrics import NotificationMetrics
from services.notify.rosters import Person, Roster, default_roster, on_call
from services.notify.settings import NotifySettings

COORDINATOR = "backup-fujisawa-shakyo"  # the rung above an agency's supervisor (多機関協働)

Attempt = Literal["delivered", "resting", "failed", "retrying"]


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

    async def roster(self, conn: Connection, agency: str) -> Roster:
        stored = await conn.fetchval("SELECT roster FROM rosters WHERE agency_id = $1", agency)
        if stored is not None:
            return _parsed_roster(stored)
        entry = self.directory.agency(agency)
        return _default_roster(agency, entry.on_call if entry else f"oncall@{agency}.fujisawa-backbone.invalid")

    async def plan(
        self,
        conn: Connection,
        *,
        cause: Envelope,
        case_id: uuid.UUID,
        recipient: rules.Recipient,
        urgency: Urgency,
        now: datetime,
        ics: str | None = None,
    ) -> bool:
        """Write the delivery for one recipient (once, however often the event arrives)."""
        roster = await self.roster(conn, recipient.agency)
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
        inserted = await conn.fetchval(
            "INSERT INTO deliveries (notification_id, case_id, cause_event_id, category, recipient_agency,"
            " recipient_role, channel, urgency, person, endpoint, language, subject, body, ics, state,"
            " next_attempt_at, escalate_at, trace_id, traceparent) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10,"
            " $11, $12, $13, $14, 'pending', $15, $16, $17, $18)"
            " ON CONFLICT (cause_event_id, recipient_agency, recipient_role) DO NOTHING RETURNING true",
            notification_id,
            case_id,
            cause.id,
            recipient.category,
            recipient.agency,
            recipient.role,
            channel,
            urgency,
            person.id,
            endpoint,
            person.language,
            text.subject,
            text.body,
            ics,
            rules.send_at(now, urgency, self.settings.quiet_start, self.settings.quiet_end),
            now + wait if needs_ack else None,
            current_trace_id(),
            _traceparent(),
        )
        return bool(inserted)


# A roster's validation (no gaps, no overlaps) walks every minute of the week, and every notification reads
# its recipient's roster: parse each stored version once. Rosters are immutable models, safe to share.
@functools.lru_cache(maxsize=512)
def _parsed_roster(stored: str) -> Roster:
    return Roster.model_validate_json(stored)


@functools.lru_cache(maxsize=512)
def _default_roster(agency: str, on_call_address: str) -> Roster:
    return default_roster(agency, on_call_address)


def _traceparent() -> str | None:
    headers: dict[str, str] = {}
    inject_trace_headers(headers)
    return headers.get("traceparent")


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
        self.breakers = channels.CircuitBreakers(settings.breaker_failures, settings.breaker_open_seconds)
        self.http = httpx.AsyncClient(timeout=settings.send_timeout_seconds)
        # Woken when deliveries are planned; the poll finds retries and escalations that fall due.
        self.wakeup = Wakeup(pool, "deliveries", settings.poll_seconds)

    async def run(self) -> None:
        try:
            async with self.wakeup.listening():
                await keep_running("notify dispatcher", self._step, idle=self.wakeup.wait)
        finally:
            await self.http.aclose()

    async def _step(self) -> int:
        return await self.send_due() + await self.escalate_due()

    async def send_due(self) -> int:
        # A graceful stop lets the batch finish: sent messages are then recorded as sent, not sent again.
        return await uninterrupted(self._send_due())

    async def _send_due(self) -> int:
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT * FROM deliveries WHERE state = 'pending' AND next_attempt_at <= $1"
                " ORDER BY next_attempt_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                now,
                self.batch,
            )
            results = await asyncio.gather(*(self._send(row) for row in rows))
            now = self.clock()  # delivered (or failed) when the sends finished, not when they were picked
            outcomes: list[Attempt] = []
            for row, error in zip(rows, results, strict=True):
                # Continue the trace of the event that caused the notification, not the dispatcher's own.
                with self.tracer.start_as_current_span(
                    f"notify {row['channel']} send",
                    context=context_from_headers({"traceparent": row["traceparent"] or ""}),
                    kind=SpanKind.CLIENT,
                    attributes={
                        "backbone.outcome": "sent" if error is None else "retry",
                        "backbone.category": row["category"],
                    },
                ):
                    outcomes.append(await self._record(conn, row, error, now))
        # Observed once the rows are committed as delivered or failed, so that a rollback counts nothing.
        for row, outcome in zip(rows, outcomes, strict=True):
            if outcome == "delivered":
                self.metrics.delivered(created_at=row["created_at"], delivered_at=now)
            elif outcome == "failed":
                self.metrics.failed.inc()
        return len(rows)

    async def _send(self, row: asyncpg.Record) -> str | None:
        """None when sent; otherwise why not."""
        endpoint = row["endpoint"]
        if not self.breakers.allows(endpoint, time.monotonic()):
            return "breaker-open"
        message = channels.Outgoing(
            notification_id=str(row["notification_id"]),
            to=endpoint,
            subject=row["subject"],
            body=row["body"],
            category=row["category"],
            case_id=str(row["case_id"]),
            urgency=row["urgency"],
            ics=row["ics"],
        )
        try:
            async with asyncio.timeout(self.notifier.settings.send_timeout_seconds):
                if row["channel"] == "webhook":
                    await channels.send_webhook(
                        self.http, self.notifier.webhook_secret(row["recipient_agency"]), message
                    )
                else:
                    await channels.send_email(self.notifier.settings, message)
        except channels.DeliveryError as error:
            self.breakers.record(endpoint, ok=False, now=time.monotonic())
            return str(error)
        except TimeoutError:
            self.breakers.record(endpoint, ok=False, now=time.monotonic())
            return f"{row['channel']}: no answer within {self.notifier.settings.send_timeout_seconds:.0f}s"
        self.breakers.record(endpoint, ok=True, now=time.monotonic())
        return None

    async def _record(self, conn: Connection, row: asyncpg.Record, error: str | None, now: datetime) -> Attempt:
        settings, outbox = self.notifier.settings, self.notifier.outbox
        common = {
            "case_id": row["case_id"],
            "notification_id": row["notification_id"],
            "cause_event_id": row["cause_event_id"],
            "category": row["category"],
            "recipient_agency": row["recipient_agency"],
            "recipient_role": row["recipient_role"],
            "channel": row["channel"],
        }
        if error is None:
            event_id = uuid.uuid4()
            await conn.execute(
                "UPDATE deliveries SET state = 'delivered', delivered_at = $2, attempts = attempts + 1,"
                " event_id = $3 WHERE notification_id = $1",
                row["notification_id"],
                now,
                event_id,
            )
            await outbox.add(
                conn,
                NotificationDelivered(**common, urgency=row["urgency"], delivered_at=now),
                caused_by=row["cause_event_id"],
                event_id=event_id,
            )
            return "delivered"
        if error == "breaker-open":  # not tried: the endpoint rests; no attempt is spent
            await conn.execute(
                "UPDATE deliveries SET next_attempt_at = $2 WHERE notification_id = $1",
                row["notification_id"],
                now + timedelta(seconds=settings.breaker_open_seconds),
            )
            return "resting"
        attempts = row["attempts"] + 1
        if attempts >= settings.max_attempts:
            await conn.execute(
                "UPDATE deliveries SET state = 'failed', attempts = $2, last_error = $3 WHERE notification_id = $1",
                row["notification_id"],
                attempts,
                error,
            )
            await outbox.add(
                conn,
                NotificationFailed(**common, attempts=attempts, last_error=error[:300], failed_at=now),
                caused_by=row["cause_event_id"],
            )
            return "failed"
        backoff = min(settings.retry_base_seconds * 2 ** (attempts - 1), settings.retry_max_seconds)
        delay = backoff * random.uniform(0.5, 1.0)  # noqa: S311 - jitter, not security
        await conn.execute(
            "UPDATE deliveries SET attempts = $2, last_error = $3, next_attempt_at = $4 WHERE notification_id = $1",
            row["notification_id"],
            attempts,
            error,
            now + timedelta(seconds=delay),
        )
        return "retrying"

    async def escalate_due(self) -> int:
        """Delivered but unacknowledged past its time: the next rung of the ladder is told."""
        now = self.clock()
        async with self.pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT * FROM deliveries WHERE state = 'delivered' AND acknowledged_at IS NULL"
                " AND escalated_at IS NULL AND escalate_at <= $1 ORDER BY escalate_at LIMIT $2 FOR UPDATE SKIP LOCKED",
                now,
                self.batch,
            )
            for row in rows:
                await self._climb(conn, row, now)
        return len(rows)

    async def _climb(self, conn: Connection, row: asyncpg.Record, now: datetime) -> None:
        await conn.execute(
            "UPDATE deliveries SET escalated_at = $2 WHERE notification_id = $1", row["notification_id"], now
        )
        rung = rules.next_rung(row["recipient_role"])
        if (
            rung == "secondary"
            and on_call(await self.notifier.roster(conn, row["recipient_agency"]), "secondary", now) is None
        ):
            rung = "supervisor"
        if rung is None:
            return
        agency, role = (COORDINATOR, "primary") if rung == "coordinator" else (row["recipient_agency"], rung)
        cause = Envelope(
            id=row["notification_id"],
            source="/fujisawa/backbone/notify",
            type="escalation",
            time=now,
            correlationid=str(row["case_id"]),
        )
        planned = await self.notifier.plan(
            conn,
            cause=cause,
            case_id=row["case_id"],
            recipient=rules.Recipient(agency, role, "referral-escalated"),
            urgency=Urgency(row["urgency"]),
            now=now,
        )
        if planned:
            await self.notifier.outbox.add(
                conn,
                NotificationEscalated(
                    case_id=row["case_id"],
                    notification_id=row["notification_id"],
                    next_notification_id=uuid.uuid5(row["notification_id"], f"{agency}/{role}"),
                    recipient_agency=agency,
                    from_role=row["recipient_role"],
                    to_role=role,
                    escalated_at=now,
                ),
            )
