"""The fault suite's cuttable proxy: it passes bytes both ways, drops everything when cut, heals."""

from __future__ import annotations

import asyncio

import pytest

from devtools.faults.proxy import TcpProxy


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    while data := await reader.read(1024):
        writer.write(data)
        await writer.drain()
    writer.close()


async def round_trip(port: int, data: bytes) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(data)
    await writer.drain()
    answer = await asyncio.wait_for(reader.read(1024), 5)
    writer.close()
    return answer


async def test_the_proxy_passes_bytes_drops_them_all_when_cut_and_heals() -> None:
    upstream = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = upstream.sockets[0].getsockname()[1]
    async with TcpProxy("127.0.0.1", port) as proxy:
        assert await round_trip(proxy.port, b"before") == b"before"
        reader, writer = await asyncio.open_connection("127.0.0.1", proxy.port)
        writer.write(b"held")
        await writer.drain()
        assert await asyncio.wait_for(reader.read(1024), 5) == b"held"
        proxy.cut()
        with pytest.raises((ConnectionError, OSError)):  # the open connection is gone
            writer.write(b"after the cut")
            await writer.drain()
            if not await asyncio.wait_for(reader.read(1024), 5):
                raise ConnectionResetError
        with pytest.raises(ConnectionError):  # new ones are dropped at once
            if not await round_trip(proxy.port, b"refused"):
                raise ConnectionResetError
        proxy.heal()
        assert await round_trip(proxy.port, b"healed") == b"healed"
    upstream.close()
