"""A query string may carry a token (a notification's acknowledgement link does): neither uvicorn's access
log, configured as `backbone serve` configures it, nor any span of a service may record one."""

from __future__ import annotations

import asyncio
import logging.config
import socket
import uuid

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from backbone.http import access_log_config
from devtools.documents.asyncapi import placeholder_app

SECRET = "0f1e2d3c4b5a69788796a5b4c3d2e1f0"


def page() -> FastAPI:
    app = FastAPI()

    @app.get("/v1/ack/{notification_id}")
    async def ack(notification_id: str, token: str = "") -> dict[str, bool]:
        return {"token given": bool(token)}

    return app


async def test_the_access_log_writes_the_path_without_its_query_string(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    config = uvicorn.Config(page(), host="127.0.0.1", port=port, log_level="info", log_config=access_log_config())
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    try:
        while not server.started:  # noqa: ASYNC110 - uvicorn's server offers no event to wait on
            await asyncio.sleep(0.01)
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/v1/ack/n-1", params={"token": SECRET})
        assert answer.json() == {"token given": True}  # the query string reached the application
    finally:
        server.should_exit = True
        await serving
        logging.config.dictConfig({"version": 1, "disable_existing_loggers": False})
    written = capsys.readouterr()
    log = written.out + written.err
    assert '"GET /v1/ack/n-1 HTTP/1.1" 200' in log  # the request was logged ...
    assert SECRET not in log and "token=" not in log  # ... without its query string


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
