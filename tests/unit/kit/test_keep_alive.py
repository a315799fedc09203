"""A service keeps an idle connection open longer than its clients do, so that the client, not the server, closes
it: when both gave up after 5 s (uvicorn's default and httpx's), a simulated agency sent its next request on a
connection the server was closing and met a transport error for a request that never arrived."""

from __future__ import annotations

import asyncio
import socket

import httpx
from fastapi import FastAPI

from backbone.http import server
from backbone.settings import HttpSettings

REQUEST = b"GET /v1/ping HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
# httpx's own default: a client using it closes an idle connection after this many seconds.
CLIENT_IDLE_EXPIRY = httpx.Limits().keepalive_expiry or 0.0


def ping() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/ping")
    async def answer() -> dict[str, bool]:
        return {"pong": True}

    return app


async def answered_after_idling(keep_alive_seconds: int, idle: float) -> bool:
    """Whether one connection to a served app answers a second request sent after `idle` seconds of silence."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    running = server(ping(), HttpSettings(port=port, keep_alive_seconds=keep_alive_seconds))
    serving = asyncio.create_task(running.serve())
    try:
        while not running.started:  # noqa: ASYNC110 - uvicorn's server offers no event to wait on
            await asyncio.sleep(0.01)
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        heads: list[bytes] = []
        try:
            for pause in (0.0, idle):
                await asyncio.sleep(pause)
                writer.write(REQUEST)
                await writer.drain()
                heads.append(await asyncio.wait_for(reader.read(4096), timeout=5))
        except ConnectionError:
            heads.append(b"")
        finally:
            writer.close()
        return len(heads) == 2 and all(head.startswith(b"HTTP/1.1 200") for head in heads)
    finally:
        running.should_exit = True
        await serving


def test_the_server_outwaits_the_clients_idle_expiry() -> None:
    assert HttpSettings().keep_alive_seconds >= 60 > CLIENT_IDLE_EXPIRY  # 60 s: a load balancer's usual idle timeout


async def test_an_idle_connection_outlives_a_clients_expiry_and_the_setting_decides() -> None:
    kept, closed = await asyncio.gather(
        answered_after_idling(HttpSettings().keep_alive_seconds, idle=CLIENT_IDLE_EXPIRY + 1),
        answered_after_idling(1, idle=2),  # the same server with a short keep-alive: the connection is gone
    )
    assert kept, "the server closed an idle connection before a client would have"
    assert not closed, "the keep-alive setting did not reach uvicorn"
