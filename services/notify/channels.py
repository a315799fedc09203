"""The channels: e-mail over SMTP and signed webhooks. Both carry the delivery's idempotency key, so a
receiver can tell a retry from a new notification: the e-mail's Message-ID and the webhook's
`X-Backbone-Delivery` header are the notification id.

Webhook signatures: `X-Backbone-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
agency's webhook secret. A receiver recomputes it, compares in constant time, and rejects a timestamp more
than five minutes old (a replay). `verify` below is the reference implementation; notify applies the same
rule to acknowledgements sent to it by signed request.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import time
from dataclasses import dataclass
from email import encoders
from email.header import Header
from email.message import Message
from email.mime.base import MIMEBase
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formatdate, parseaddr

import aiosmtplib
import httpx

from services.notify.settings import NotifySettings

REPLAY_WINDOW_SECONDS = 300


class DeliveryError(Exception):
    """The channel refused or failed; the message is safe to show (no personal data)."""


class ChannelDownError(DeliveryError):
    """The channel itself could not be used (the mail server unreachable, or refusing every message: its
    greeting, our sign-in, our sender), not this message or recipient: it says nothing about the recipient."""


# What the mail server says about one message or recipient: the server is up, and other messages may go.
_REFUSED_MESSAGE = (aiosmtplib.SMTPRecipientsRefused, aiosmtplib.SMTPRecipientRefused, aiosmtplib.SMTPDataError)


@dataclass(frozen=True)
class Outgoing:
    notification_id: str
    to: str  # an e-mail address or a webhook URL
    subject: str
    body: str
    category: str
    case_id: str
    urgency: str
    ics: str | None = None


def sign(secret: bytes, body: bytes, timestamp: int | None = None) -> str:
    moment = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret, f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def verify(secret: bytes, body: bytes, header: str, *, now: float | None = None) -> bool:
    """True when `header` signs `body` with `secret` and is at most five minutes old."""
    try:
        fields = dict(part.split("=", 1) for part in header.split(","))
        moment = int(fields["t"])
    except (ValueError, KeyError):
        return False
    if abs((time.time() if now is None else now) - moment) > REPLAY_WINDOW_SECONDS:
        return False
    expected = hmac.new(secret, f"{moment}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


class Mailer:
    """E-mail over kept SMTP sessions: at most `smtp_sessions` (a setting) open at once, each reused for message
    after message. A new session per message costs a connection, the greeting, EHLO (and STARTTLS and AUTH where
    configured) and a lookup of this host's name, on both sides, several times what the message itself does.

    A session that failed or was interrupted (the dispatcher's timeout) is closed, never reused. One the server
    closed while it sat idle (servers drop idle sessions after a few minutes) is noticed on its next use, and that
    message goes once more on a new session: if the server had in fact taken it, the recipient gets it twice with
    one Message-ID, as after any retry (at-least-once, like every delivery here)."""

    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings
        self._sender = parseaddr(settings.mail_from)[1]
        self._idle: list[aiosmtplib.SMTP] = []
        self._slots = asyncio.Semaphore(settings.smtp_sessions)

    async def send(self, message: Outgoing) -> None:
        mail = email_bytes(self.settings, message)
        async with self._slots:
            session = self._idle.pop() if self._idle else None
            healthy = False
            try:
                if session is not None:
                    try:
                        await session.sendmail(self._sender, [message.to], mail)
                    except aiosmtplib.SMTPServerDisconnected:
                        session.close()
                        session = None  # closed while idle: once more, on a new session
                if session is None:
                    session = await self._open()
                    await session.sendmail(self._sender, [message.to], mail)
                healthy = True
            except _REFUSED_MESSAGE as error:
                raise DeliveryError(f"smtp: {type(error).__name__}: {str(error)[:200]}") from None
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
                raise ChannelDownError(f"smtp: {type(error).__name__}: {str(error)[:200]}") from None
            finally:
                if session is not None:
                    if healthy:
                        self._idle.append(session)
                    else:
                        session.close()

    async def _open(self) -> aiosmtplib.SMTP:
        settings = self.settings
        session = aiosmtplib.SMTP(
            hostname=settings.smtp_host,
            port=settings.smtp_port,
            start_tls=settings.smtp_starttls,
            username=settings.smtp_username,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password else None,
            timeout=settings.send_timeout_seconds,
        )
        await session.connect()
        return session

    async def close(self) -> None:
        """End every kept session politely (QUIT); one that does not answer is just closed."""
        idle, self._idle = self._idle, []
        for session in idle:
            try:
                await session.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                session.close()


def email_bytes(settings: NotifySettings, message: Outgoing) -> bytes:
    """The e-mail as sent: a UTF-8 text part (and the meeting's invitation, when there is one), its subject encoded
    for any mail system (RFC 2047). Built with the standard library's compat32 classes, which write headers as
    given: the default policy's `EmailMessage` parses every header it is handed into tokens, which cost more CPU
    than everything else notify does for a notification."""
    text = MIMEText(message.body, "plain", "utf-8")
    mail: Message = text
    if message.ics:
        invitation = MIMEBase("text", "calendar", method="CANCEL" if "METHOD:CANCEL" in message.ics else "REQUEST")
        invitation.set_payload(message.ics.encode())
        encoders.encode_base64(invitation)
        invitation.add_header("Content-Disposition", "attachment", filename="invitation.ics")
        mail = MIMEMultipart("mixed", _subparts=[text, invitation])
    mail["From"] = settings.mail_from
    mail["To"] = message.to
    mail["Subject"] = Header(message.subject, "utf-8")  # type: ignore[assignment] # compat32 folds a Header itself
    mail["Date"] = formatdate(localtime=False)
    mail["Message-ID"] = f"<{message.notification_id}@fujisawa-backbone>"
    mail["X-Backbone-Category"] = message.category
    mail["X-Backbone-Case"] = message.case_id
    mail["X-Backbone-Urgency"] = message.urgency
    return mail.as_bytes()


async def send_webhook(http: httpx.AsyncClient, secret: bytes, message: Outgoing) -> None:
    body = httpx.Request(
        "POST",
        message.to,
        json={
            "notification_id": message.notification_id,
            "category": message.category,
            "case_id": message.case_id,
            "urgency": message.urgency,
            "subject": message.subject,
            "ics": message.ics,
        },
    ).content
    headers = {
        "Content-Type": "application/json",
        "X-Backbone-Delivery": message.notification_id,
        "X-Backbone-Signature": sign(secret, body),
    }
    try:
        answer = await http.post(message.to, content=body, headers=headers)
    except httpx.HTTPError as error:
        raise DeliveryError(f"webhook: {type(error).__name__}") from None
    if answer.status_code >= 300:
        raise DeliveryError(f"webhook: answered {answer.status_code}")


class CircuitBreakers:
    """Per key (the mail server, a webhook's URL): closed, it lets every send through. After `failures`
    consecutive failures it opens, and nothing is tried for `open_seconds`; then one send at a time goes through
    as a probe until one succeeds, which closes it, while the rest keep resting. A failed probe opens it again.

    So a dependency that comes back is found within `open_seconds` of its return, and one that stays down gets
    one try per `open_seconds`. A probe that never reports (its task was cancelled) is given up after
    `probe_seconds`, so that the breaker cannot stay shut for good.
    """

    def __init__(self, failures: int, open_seconds: float, probe_seconds: float) -> None:
        self.failures = failures
        self.open_seconds = open_seconds
        self.probe_seconds = probe_seconds
        self._streak: dict[str, int] = {}
        self._open_until: dict[str, float] = {}
        self._probe_since: dict[str, float] = {}

    def allows(self, key: str, now: float) -> bool:
        """Whether a send to `key` may go now; when the breaker is open, a True makes that send its probe."""
        until = self._open_until.get(key)
        if until is None:
            return True
        probing_since = self._probe_since.get(key)
        if now < until or (probing_since is not None and now - probing_since < self.probe_seconds):
            return False
        self._probe_since[key] = now
        return True

    def record(self, key: str, ok: bool, now: float) -> None:
        self._probe_since.pop(key, None)
        if ok:
            self._streak.pop(key, None)
            self._open_until.pop(key, None)
            return
        self._streak[key] = self._streak.get(key, 0) + 1
        if key in self._open_until or self._streak[key] >= self.failures:
            self._open_until[key] = now + self.open_seconds
