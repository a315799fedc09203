"""E-mail over kept SMTP sessions, against a real SMTP server (aiosmtpd) on loopback: one session carries message
after message; a session the server dropped while idle is replaced and the message still goes; a server that is
down is a ChannelDownError (the server's breaker counts it), one that refuses a recipient is a plain DeliveryError
(the server is up), and the next message opens a new session once it is back."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from email import message_from_bytes, policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from services.notify.channels import ChannelDownError, DeliveryError, Mailer, Outgoing, email_bytes
from services.notify.settings import NotifySettings


class Recorder:
    def __init__(self) -> None:
        self.sessions: set[int] = set()
        self.received: list[str] = []

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook
        self, _server: Any, _session: Any, envelope: Any, address: str, _options: list[str]
    ) -> str:
        if address.startswith("unknown@"):
            return "550 5.1.1 no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, _server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook
        self.sessions.add(id(session))
        self.received.append(envelope.content.decode().split("Message-ID: ", 1)[1].split("\r\n", 1)[0])
        return "250 OK"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Server:
    """An SMTP server on one port that can go away and come back (a new controller each time)."""

    def __init__(self) -> None:
        self.port, self.recorder = free_port(), Recorder()
        self.controller: Controller | None = None

    def start(self) -> None:
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def server() -> Iterator[Server]:
    running = Server()
    running.start()
    yield running
    running.stop()


def message(n: int) -> Outgoing:
    return Outgoing(f"n-{n}", "oncall@example.jp", "つなぎ提案", "本文", "referral-proposed", "case", "urgent")


def mailer_for(server: Server) -> Mailer:
    return Mailer(NotifySettings(smtp_host="127.0.0.1", smtp_port=server.port, send_timeout_seconds=5))


async def test_one_kept_session_carries_message_after_message(server: Server) -> None:
    recorder = server.recorder
    mailer = mailer_for(server)
    for n in range(5):
        await mailer.send(message(n))
    await mailer.close()
    assert recorder.received == [f"<n-{n}@fujisawa-backbone>" for n in range(5)]
    assert len(recorder.sessions) == 1


async def test_a_session_dropped_while_idle_is_replaced_and_the_message_still_goes(
    server: Server,
) -> None:
    recorder = server.recorder
    mailer = mailer_for(server)
    await mailer.send(message(1))
    server.stop()  # the server goes away, and with it the idle session ...
    server.start()  # ... and comes back on the same port
    await mailer.send(message(2))
    await mailer.close()
    assert recorder.received == ["<n-1@fujisawa-backbone>", "<n-2@fujisawa-backbone>"]
    assert len(recorder.sessions) == 2


async def test_a_server_that_is_down_is_a_delivery_error_and_the_next_send_reconnects(
    server: Server,
) -> None:
    recorder = server.recorder
    mailer = mailer_for(server)
    server.stop()
    with pytest.raises(ChannelDownError, match="smtp: "):
        await mailer.send(message(1))
    server.start()
    await mailer.send(message(2))
    await mailer.close()
    assert recorder.received == ["<n-2@fujisawa-backbone>"]


async def test_a_refused_recipient_is_that_message_s_error_not_the_server_s(server: Server) -> None:
    mailer = mailer_for(server)
    refused = Outgoing("n-1", "unknown@example.jp", "件名", "本文", "referral-proposed", "case", "urgent")
    with pytest.raises(DeliveryError, match="SMTPRecipientsRefused") as raised:
        await mailer.send(refused)
    assert not isinstance(raised.value, ChannelDownError)
    await mailer.send(message(2))  # the server is up, and the session with it
    await mailer.close()
    assert server.recorder.received == ["<n-2@fujisawa-backbone>"]


def test_the_email_reads_back_as_written_with_its_invitation() -> None:
    settings = NotifySettings()
    ics = "BEGIN:VCALENDAR\r\nMETHOD:CANCEL\r\nEND:VCALENDAR\r\n"
    sent = Outgoing(
        "n-9", "oncall@example.jp", "【緊急】つなぎ提案（辻堂）", "本文\nリンク", "meeting", "case-1", "urgent", ics
    )
    mail = message_from_bytes(email_bytes(settings, sent), policy=policy.default)
    assert (mail["Subject"], mail["Message-ID"], mail["X-Backbone-Case"]) == (
        "【緊急】つなぎ提案（辻堂）",
        "<n-9@fujisawa-backbone>",
        "case-1",
    )
    body = mail.get_body(("plain",))
    assert body is not None and body.get_content() == "本文\nリンク"
    (invitation,) = [part for part in mail.iter_attachments() if part.get_content_type() == "text/calendar"]
    assert invitation.get_filename() == "invitation.ics" and invitation.get_param("method") == "CANCEL"
    assert invitation.get_content() == ics
