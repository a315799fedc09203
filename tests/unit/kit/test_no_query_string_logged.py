"""A query string may carry a token (a notification's acknowledgement link does): neither uvicorn's access
log, kept as `backbone serve` keeps it, nor any span of a service may record one. The access log writes a request
that succeeded at DEBUG only, and a refused one at INFO."""

from __future__ import annotations

import asyncio
import logging
import socket
import uuid

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, HTTPException
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from backbone.http import keep_access_log
from devtools.documents.asyncapi import placeholder_app

SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def page() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/ack/{notification_id}")
    async def ack(notification_id: str, token: str = "") -> dict[str, bool]:
        return {"token given": bool(token)}

    @app.post("/v1/ack/{notification_id}")
    async def acknowledge(notification_id: str, token: str = "") -> dict[str, bool]:
        if notification_id == "n-2":
            raise HTTPException(404, "no such notification")
        return {"token given": bool(token)}

    return app


async def requests_logged(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    """A GET and a POST, each with the token in its query string, through uvicorn as `backbone serve` runs it."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    keep_access_log()
    caplog.set_level(level, logger="uvicorn.access")
    server = uvicorn.Server(uvicorn.Config(page(), host="127.0.0.1", port=port, log_config=None))
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn's server offers no event to wait on
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            for method in ("GET", "POST"):
                answer = await client.request(method, f"http://127.0.0.1:{port}/v1/ack/n-1", params={"token": SECRET})
                assert answer.json() == {"token given": True}  # the query string reached the application
            refused = await client.post(f"http://127.0.0.1:{port}/v1/ack/n-2", params={"token": SECRET})
            assert refused.status_code == 404
    finally:
        server.should_exit = True
        await serving
    return [record for record in caplog.records if record.name == "uvicorn.access"]


async def test_the_access_log_writes_the_path_without_its_query_string(caplog: pytest.LogCaptureFixture) -> None:
    lines = [record.getMessage() for record in await requests_logged(caplog, logging.DEBUG)]
    assert any('"GET /v1/ack/n-1 HTTP/1.1" 200' in line for line in lines), lines  # the requests were logged ...
    assert any('"POST /v1/ack/n-1 HTTP/1.1" 200' in line for line in lines), lines
    assert SECRET not in caplog.text and "token=" not in caplog.text  # ... without their query strings


async def test_a_refused_request_is_logged_at_info_and_one_that_succeeded_only_at_debug(
    caplog: pytest.LogCaptureFixture,
) -> None:
    at_info = await requests_logged(caplog, logging.INFO)
    assert [(record.levelname, '"POST /v1/ack/n-2' in record.getMessage()) for record in at_info] == [("INFO", True)]
    caplog.clear()
    at_debug = await requests_logged(caplog, logging.DEBUG)
    assert [record.levelname for record in at_debug] == ["DEBUG", "DEBUG", "INFO"]


async def test_a_service_records_one_server_span_per_request_with_the_path_only() -> None:
    notify = placeholder_app("notify")  # the app `backbone serve` runs, with placeholder keys (no I/O)
    provider = trace.get_tracer_provider()  # the process-wide one, which FastAPI's own telemetry would use too
    assert isinstance(provider, TracerProvider)
    exporter = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    path = f"/v1/ack/{uuid.uuid4()}"
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=notify), base_url="http://notify") as client:
        assert (await client.get(path, params={"token": SECRET})).status_code == 404  # a token that is not valid
    spans = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert [(span.name, dict(span.attributes or {}).get("url.path")) for span in spans] == [(f"GET {path}", path)]
    for span in exporter.get_finished_spans():
        recorded = span.name + " ".join(str(value) for value in (span.attributes or {}).values())
        assert SECRET not in recorded and "token" not in recorded, span.name
