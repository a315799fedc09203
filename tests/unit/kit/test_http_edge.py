"""The edge every service shares, as plain ASGI middleware: one server span per request that continues the caller's
trace and notes the answer's status, and a body guard that hands the body it read on to the route whole."""

from __future__ import annotations

from typing import Any

import asyncpg
import httpx
import pytest
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from backbone.http import install_body_guard, install_problem_handlers, install_server_spans

CALLER_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"


def edge(max_bytes: int = 1024) -> tuple[FastAPI, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    app = FastAPI()
    install_problem_handlers(app)
    install_server_spans(app, provider.get_tracer("test"))
    install_body_guard(app, max_bytes)

    @app.post("/v1/echo", status_code=201)
    async def echo(body: dict[str, Any]) -> dict[str, Any]:
        return body

    return app, exporter


async def post(app: FastAPI, content: bytes, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as client:
        return await client.post("/v1/echo", content=content, headers={"content-type": "application/json", **headers})


async def test_the_server_span_continues_the_callers_trace_and_notes_the_status() -> None:
    app, exporter = edge()
    answer = await post(app, b'{"a": 1}', traceparent=f"00-{CALLER_TRACE}-00f067aa0ba902b7-01")
    assert answer.status_code == 201
    (span,) = [span for span in exporter.get_finished_spans() if span.kind is SpanKind.SERVER]
    assert span.name == "POST /v1/echo"
    assert f"{span.context.trace_id:032x}" == CALLER_TRACE
    assert dict(span.attributes or {})["http.response.status_code"] == 201


async def test_the_body_guard_hands_the_whole_body_on_and_refuses_what_is_too_big_or_not_utf8() -> None:
    app, _ = edge(max_bytes=64)
    assert (await post(app, '{"名前": "ふじさわ"}'.encode())).json() == {"名前": "ふじさわ"}
    too_big = await post(app, b'{"a": "' + b"x" * 100 + b'"}')
    assert (too_big.status_code, too_big.headers["content-type"]) == (413, "application/problem+json")
    not_utf8 = await post(app, '{"a": "\xff"}'.encode("latin-1"))
    assert not_utf8.status_code == 400 and "UTF-8" in not_utf8.json()["detail"]


@pytest.mark.parametrize(
    "outage",
    [
        asyncpg.CannotConnectNowError("the database system is starting up"),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        ConnectionRefusedError(111, "Connection refused"),
    ],
)
async def test_a_database_outage_is_answered_503_with_retry_after_and_a_problem_that_says_what_to_do(
    outage: Exception,
) -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.post("/v1/consultations")
    async def submit() -> None:
        raise outage

    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as client:
        answer = await client.post("/v1/consultations")
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["type"] == "urn:jp:fujisawa:welfare:problem:unavailable"
    assert "Nothing was stored" in problem["detail"]
