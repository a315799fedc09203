"""The HTTP edge every service shares: RFC 9457 problem responses, health, readiness, metrics, a server span,
and the access log's configuration.

Validation errors list field paths and messages but never echo the submitted values, which may be
personal data. Neither the access log nor the server span records a query string: a notification's
acknowledgement link carries its token there.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.telemetry import TelemetryConfig
from opentelemetry import trace
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn import Config, Server

from backbone.db import OUTAGES
from backbone.settings import HttpSettings
from backbone.telemetry import context_from_headers

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
# FastAPI's own OpenTelemetry, on by default, adds a second server span to every request that records the query
# string as `url.query` (an acknowledgement link's token) and exports exception messages: the kit's span, which
# records the path only, is the one (`create_app` passes this).
NATIVE_TELEMETRY_OFF: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}
RETRY_AFTER_SECONDS = 5
"""What a 503 asks the caller to wait: a failover of the database takes about ten seconds, a lost connection one."""
UNAVAILABLE: dict[int | str, dict[str, Any]] = {
    503: {
        "description": "The service cannot reach its database just now: nothing was stored; send the same request"
        " again after Retry-After seconds",
        "content": {PROBLEM_JSON: {}},
    }
}
"""Every business operation's documented 503 (`install_problem_handlers` answers it)."""
# Probes and scrapes come every few seconds and say nothing about a case: no span for them.
_UNTRACED = frozenset({"/health", "/ready", "/metrics"})


def problem(status: int, title: str, detail: str, *, type_: str = "about:blank", **extra: Any) -> JSONResponse:
    body = {"type": type_, "title": title, "status": status, "detail": detail, **extra}
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON)


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def invalid_request(_: Request, error: RequestValidationError) -> JSONResponse:
        fields = [
            {
                "field": ".".join(str(part) for part in item["loc"]),
                "message": item["msg"],
                "code": item["type"],
            }
            for item in error.errors()
        ]
        return problem(
            422,
            "The submission is not valid",
            "Correct the fields listed in `errors` and send it again. Nothing was stored.",
            type_="urn:jp:fujisawa:welfare:problem:validation",
            errors=fields,
        )

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, error: HTTPException) -> JSONResponse:
        response = problem(error.status_code, _title(error.status_code), str(error.detail))
        response.headers.update(error.headers or {})  # WWW-Authenticate, Retry-After
        return response

    async def unavailable(request: Request, error: Exception) -> JSONResponse:
        # The request is fine and its transaction rolled back: a 503 that says so, not a bare 500, so that the
        # caller's system tries again rather than reporting a fault of its own.
        log.warning("%s %s: %s, answered 503", request.method, request.url.path, type(error).__name__)
        response = problem(
            503,
            "Service Unavailable",
            "The service cannot reach its database just now (it may be failing over to its standby). Nothing was"
            f" stored. Send the same request again in {RETRY_AFTER_SECONDS} seconds; with the same Idempotency-Key,"
            " a submission is stored once however often it is sent.",
            type_="urn:jp:fujisawa:welfare:problem:unavailable",
        )
        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
        return response

    for outage in OUTAGES:
        app.add_exception_handler(outage, unavailable)


def _title(status: int) -> str:
    from http import HTTPStatus  # noqa: PLC0415

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


def install_server_spans(app: FastAPI, tracer: trace.Tracer) -> None:
    """One SERVER span per request (`ServerSpans`)."""
    app.add_middleware(ServerSpans, tracer=tracer)


class ServerSpans:
    """One SERVER span per request, continuing a caller's W3C trace context when it sends one. The span
    names the path only: no `url.query`, no `http.target`, no `url.full` (a query string may hold a token).

    Every service has this middleware, so it also refuses a NUL character in the path or the query: PostgreSQL's
    text cannot hold one, and a parameter that reached a query with it would end in a 500, not a clear 422.

    A plain ASGI middleware: Starlette's `@app.middleware("http")` runs each request through a task and a
    memory stream of its own, which cost more CPU than the rest of a small request's edge."""

    def __init__(self, app: ASGIApp, tracer: trace.Tracer) -> None:
        self.app, self.tracer = app, tracer

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if _holds_nul(scope):
            await _nul_refused()(scope, receive, send)
            return
        path, method = scope["path"], scope["method"]
        if path in _UNTRACED:
            await self.app(scope, receive, send)
            return
        headers = {name.decode("latin-1"): value.decode("latin-1") for name, value in scope["headers"]}
        with self.tracer.start_as_current_span(
            f"{method} {path}",
            context=context_from_headers(headers),
            kind=SpanKind.SERVER,
            attributes={"http.request.method": method, "url.path": path},
        ) as span:

            async def send_noting_status(message: Message) -> None:
                if message["type"] == "http.response.start":
                    span.set_attribute("http.response.status_code", message["status"])
                await send(message)

            await self.app(scope, receive, send_noting_status)


def _holds_nul(scope: Scope) -> bool:
    return b"%00" in scope.get("query_string", b"") or "\x00" in scope.get("path", "")


def _nul_refused() -> JSONResponse:
    return problem(
        422,
        "The request holds a NUL character",
        "A NUL character (%00) is not accepted in any path or query parameter. Remove it and send the request"
        " again. Nothing was stored.",
        type_="urn:jp:fujisawa:welfare:problem:validation",
    )


def install_body_guard(app: FastAPI, max_bytes: int) -> None:
    """Refuse oversized and non-UTF-8 bodies before anything is parsed (`BodyGuard`)."""
    app.add_middleware(BodyGuard, max_bytes=max_bytes)


class BodyGuard:
    """Refuse, before anything is parsed or stored, a body over `max_bytes` (413) and a JSON body that is
    not UTF-8 (400; the JSON parser would otherwise answer with a vague "error parsing the body"). The body
    read here is handed on to the route as one message. A plain ASGI middleware, as `ServerSpans` is."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in {"POST", "PUT", "PATCH"}:
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            await _too_large(self.max_bytes)(scope, receive, send)
            return
        body = bytearray()
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return  # the client has gone: nobody to answer
            body += message.get("body", b"")
            more = message.get("more_body", False)
            if len(body) > self.max_bytes:
                await _too_large(self.max_bytes)(scope, receive, send)
                return
        if "json" in headers.get("content-type", ""):
            try:
                body.decode("utf-8")
            except UnicodeDecodeError as error:
                refused = problem(
                    400,
                    "Body is not UTF-8",
                    f"JSON must be encoded in UTF-8 (byte {error.start} is not). Nothing was stored.",
                )
                await refused(scope, receive, send)
                return
        handed_on = False

        async def receive_the_body_once() -> Message:
            nonlocal handed_on
            if handed_on:
                return await receive()  # after the body: the client's disconnect, when it comes
            handed_on = True
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        await self.app(scope, receive_the_body_once, send)


def _too_large(max_bytes: int) -> JSONResponse:
    return problem(413, "Body too large", f"The limit is {max_bytes // 1024} KiB. Nothing was stored.")


def health_router(
    readiness: Callable[[], Awaitable[dict[str, bool]]], liveness: Callable[[], bool] = lambda: True
) -> APIRouter:
    """`/health` answers 503 when `liveness()` says the process cannot recover by itself (the orchestrator's
    liveness probe then restarts it); `/ready`, whether it can take work now."""
    router = APIRouter(tags=["operations"])

    @router.get(
        "/health",
        summary="Liveness: the process is serving, and can still consume",
        response_model=dict[str, str],
        responses={503: {"description": "The process cannot consume again (its Kafka consumer's coordinator died)"}},
    )
    async def health() -> JSONResponse:
        alive = liveness()
        return JSONResponse({"status": "ok" if alive else "consumer dead"}, status_code=200 if alive else 503)

    @router.get("/ready", summary="Readiness: database, Kafka and background loops are up")
    async def ready() -> JSONResponse:
        checks = await readiness()
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"ready": status == 200, "checks": checks}, status_code=status)

    return router


def metrics_router(render: Callable[[], bytes]) -> APIRouter:
    """`GET /metrics` in Prometheus' text format; left out of the OpenAPI documents, which are the agencies'
    contract, while this is for the operators' Prometheus."""
    router = APIRouter()

    @router.get("/metrics", include_in_schema=False)
    async def metrics() -> Response:
        # async: rendered on the event loop, so a scrape never sees the refresh loop half-way.
        return Response(render(), headers={"Content-Type": CONTENT_TYPE_LATEST})

    return router


class AccessLog(logging.Filter):
    """uvicorn's access log as an operator wants it. The request line loses its query string (`GET /v1/ack/…?token=…`
    is logged as `GET /v1/ack/…`): a query string may carry a token, and a log is read by more people than a token
    may. A request that succeeded is a DEBUG line: every write already has its line, the event it published, and
    probes, scrapes and page views would drown the rest. A refused request (4xx) is an INFO line, a failed one (5xx)
    a WARNING."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not isinstance(record.args, tuple):
            return True
        # uvicorn logs (client, method, path with query string, http version, status); the path is the one
        # argument that starts with "/", the status the one integer: matched so rather than by position.
        record.args = tuple(_path_only(arg) for arg in record.args)
        status = next((arg for arg in record.args if isinstance(arg, int)), 0)
        level = logging.WARNING if status >= HTTPStatus.INTERNAL_SERVER_ERROR else logging.INFO
        if status < HTTPStatus.BAD_REQUEST:
            level = logging.DEBUG
        record.levelno, record.levelname = level, logging.getLevelName(level)
        return logging.getLogger(record.name).isEnabledFor(level)


def _path_only(arg: object) -> object:
    return arg.split("?", 1)[0] if isinstance(arg, str) and arg.startswith("/") else arg


def keep_access_log() -> None:
    """Put `AccessLog` on uvicorn's access log, whose lines then go where every other line goes (`logs.configure`);
    `server` calls it, and so must anything else that runs a service in uvicorn (with `log_config=None`)."""
    access = logging.getLogger("uvicorn.access")
    if not any(isinstance(kept, AccessLog) for kept in access.filters):
        access.addFilter(AccessLog())


def server(app: ASGIApp, http: HttpSettings) -> Server:
    """The uvicorn server a service runs in (`backbone serve`)."""
    keep_access_log()
    # uvicorn's loggers keep no handlers of their own (log_config=None): their lines go through logs.configure's.
    # Requests are parsed in C (httptools; h11 costs more CPU per request). The loop stays asyncio's own: on uvloop,
    # aiokafka's group coordinator dies when it writes to a connection a restarted broker closed (uvloop raises
    # RuntimeError where asyncio ignores the write; aiokafka issue 1038), and the service stops consuming for good.
    config = Config(
        app,
        host=http.host,
        port=http.port,
        log_config=None,
        loop="asyncio",
        http="httptools",
        timeout_keep_alive=http.keep_alive_seconds,
    )
    return Server(config)
