"""Real receivers for notify's channels: an SMTP server (aiosmtpd) and an HTTP webhook receiver, on loopback."""

from __future__ import annotations

import asyncio
import email
import json
import socket
import threading
import time
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller

from services.notify.channels import verify


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class SmtpCatcher:
    """Receives mail for real and keeps it parsed; can be told to refuse the next N messages to one address
    (only that address: other notifications, such as escalations due from earlier runs, may arrive meanwhile)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[Message] = []
        self.refusing: dict[str, int] = {}
        self.delay = 0.0
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802 - aiosmtpd's hook name
        await asyncio.sleep(self.delay)
        for address in envelope.rcpt_tos:
            if self.refusing.get(address, 0) > 0:
                self.refusing[address] -= 1
                return "451 4.3.0 try again later"
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 OK"

    def start(self) -> None:
        self._controller.start()

    def stop(self) -> None:
        self._controller.stop()

    def to(self, address: str) -> list[Message]:
        return [m for m in self.messages if m["To"] == address]


@dataclass
class WebhookReceiver:
    """Accepts webhook POSTs, verifying each signature with the secrets it is given."""

    secrets: dict[str, bytes] = field(default_factory=dict)  # path -> secret
    received: list[dict[str, Any]] = field(default_factory=list)
    status: int = 200
    delay: float = 0.0
    port: int = field(default_factory=free_port)

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                time.sleep(receiver.delay)
                secret = receiver.secrets.get(self.path, b"")
                receiver.received.append({
                    "path": self.path, "body": json.loads(body), "delivery": self.headers.get("X-Backbone-Delivery"),
                    "verified": verify(secret, body, self.headers.get("X-Backbone-Signature", "")),
                    "tampered_fails": not verify(secret, body + b" ", self.headers.get("X-Backbone-Signature", "")),
                })  # fmt: skip
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *_: Any) -> None:
                return

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self._server.shutdown()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"
