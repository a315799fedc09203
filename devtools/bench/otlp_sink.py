"""A minimal OTLP/HTTP receiver on loopback for O1: it accepts every export and counts what arrived.

With tracing on, the services export their spans here exactly as they would to a collector (protobuf over
HTTP, batched), so the cost measured includes creating, serialising and sending spans; the sink itself
only reads and discards the bodies.
"""

from __future__ import annotations

import asyncio
import contextlib
from types import TracebackType

_OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-protobuf\r\nContent-Length: 0\r\n\r\n"


class OtlpSink:
    def __init__(self, *, keep: bool = False) -> None:
        """`keep`: hold every export's body in `body` (the leak scan searches it)."""
        self.exports = 0
        self.bytes = 0
        self.keep = keep
        self.body = b""
        self._server: asyncio.Server | None = None

    @property
    def endpoint(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def __aenter__(self) -> OtlpSink:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        return self

    async def __aexit__(self, *_: type[BaseException] | BaseException | TracebackType | None) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(asyncio.IncompleteReadError, ConnectionError):
            while True:  # one keep-alive connection, many exports
                head = await reader.readuntil(b"\r\n\r\n")
                length = next(
                    (
                        int(line.split(b":", 1)[1])
                        for line in head.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    ),
                    0,
                )
                body = await reader.readexactly(length)
                if self.keep:
                    self.body += body
                self.exports += 1
                self.bytes += length
                writer.write(_OK)
                await writer.drain()
        writer.close()
