"""Logs an operator can use: one line per business event, not per message, each carrying the ids that lead from
it to the trace (`trace_id`) and to the ledger (`event_id`, `topic`, `partition`, `offset`).

In production (and wherever the output is not a terminal: a container, the local stack's log files) every line is
one JSON object:

    {"time": "2026-12-03T09:15:02.114Z", "level": "INFO", "service": "referral", "logger": "backbone.outbox",
     "message": "published ReferralProposed", "trace_id": "4bf9…", "span_id": "00f0…",
     "event_id": "…", "event_type": "ReferralProposed", "topic": "referral.events"}

On a developer's terminal the same line is readable text. `BACKBONE_LOG__FORMAT` chooses either explicitly,
`BACKBONE_LOG__LEVEL` the level (DEBUG shows FastStream's per-message lines and every read on the HTTP edge).

The record a consumer is working on is bound for the whole of its handling (`about_record`), so that a retry, a
dead letter or any line a handler writes says which record it was about, without each call passing it.
Lines carry ids only: no personal data and no secret, as everywhere else (the leak scan reads the logs).
"""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import sys
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Literal

from opentelemetry import trace
from opentelemetry.propagate import extract
from opentelemetry.trace import SpanContext
from pydantic import BaseModel, ConfigDict, Field

from schemas.events import NotificationDelivered, PersonalDataDisclosed

LogFormat = Literal["json", "console"]
# The record attributes (passed as `extra=` or bound by `about_record`) a line carries when they are at hand.
_ID_HEADERS = (("event_id", "ce_id"), ("event_type", "ce_type"), ("case_id", "ce_correlationid"))
EVENT_FIELDS = (*(field for field, _ in _ID_HEADERS), "topic", "partition", "offset", "consumer", "referral_id")

# Events an operator does not follow one by one: every e-mail delivered and every view of a person's data is on the
# ledger, and a line apiece would be most of a day's log. Their publication is a DEBUG line; what goes wrong with
# them (a failed delivery, a refused disclosure's escalation) has lines and events of its own.
ROUTINE_EVENTS = frozenset({NotificationDelivered.TYPE, PersonalDataDisclosed.TYPE})

LIBRARIES = ("aiokafka", "asyncio", "asyncpg", "httpcore", "hpack", "opentelemetry", "urllib3", "multipart", "jwt")

_bound: contextvars.ContextVar[Mapping[str, object] | None] = contextvars.ContextVar("log_fields", default=None)


class LogSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    format: LogFormat | None = Field(
        default=None, description="json or console; by default JSON lines unless stderr is a terminal"
    )
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


@contextlib.contextmanager
def about_record(**fields: object) -> Iterator[None]:
    """Every line logged inside the block carries these fields (the record's topic, partition, offset, event id)."""
    token = _bound.set({**(_bound.get() or {}), **fields})
    try:
        yield
    finally:
        _bound.reset(token)


def published_level(event_type: str) -> int:
    """The level of the line that says an event of this type was published."""
    return logging.DEBUG if event_type in ROUTINE_EVENTS else logging.INFO


def event_ids(headers: Mapping[str, str]) -> dict[str, object]:
    """An event's own ids from its Kafka headers: its id, type and case (those it has)."""
    return {field: headers[header] for field, header in _ID_HEADERS if headers.get(header)}


def event_fields(headers: Mapping[str, str], topic: str) -> dict[str, object]:
    """An event's ids from its Kafka headers, for `extra=`: its id, type and case, and the trace it belongs to."""
    # The W3C trace context, read by the propagator that wrote it (backbone.telemetry.inject_trace_headers).
    trace_ids = _trace_ids(trace.get_current_span(extract(headers)).get_span_context())
    return {"topic": topic, **event_ids(headers), **trace_ids}


def _trace_ids(span: SpanContext) -> dict[str, object]:
    if not span.is_valid:
        return {}
    return {"trace_id": format(span.trace_id, "032x"), "span_id": format(span.span_id, "016x")}


def fields_of(record: logging.LogRecord) -> dict[str, object]:
    """The trace and event ids of a line: the current span's, then the bound record's, then the line's own."""
    found = _trace_ids(trace.get_current_span().get_span_context())
    found.update(_bound.get() or {})
    own = record.__dict__
    found.update({name: own[name] for name in ("trace_id", "span_id", *EVENT_FIELDS) if name in own})
    return found


class StampIds(logging.Filter):
    """Takes a line's ids (`fields_of`) when it is written, while its span and bound record are current, so that a
    handler formatting it later (a queue, pytest's capture) still has them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if "ids" not in record.__dict__:
            record.ids = fields_of(record)
        return True


def ids_of(record: logging.LogRecord) -> dict[str, object]:
    stamped: dict[str, object] | None = record.__dict__.get("ids")
    return dict(stamped) if stamped is not None else fields_of(record)


class JsonLines(logging.Formatter):
    """One JSON object per line, for log collectors (Loki, Cloud Logging, Fluent Bit)."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC)
            .isoformat(timespec="milliseconds")
            .replace("+00:00", "Z"),
            "level": record.levelname,
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
            **ids_of(record),
        }
        if record.exc_info:
            line["error"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class Console(logging.Formatter):
    """The same line as readable text: time, service, level, logger and message, then the ids in short."""

    def __init__(self, service: str) -> None:
        super().__init__(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        found = ids_of(record)
        if "trace_id" in found:
            found["trace_id"] = str(found["trace_id"])[:16]
        found.pop("span_id", None)
        return text + ("  [" + " ".join(f"{k}={v}" for k, v in found.items()) + "]" if found else "")


def configure(service: str, settings: LogSettings) -> None:
    """Send every logger's lines, the libraries' included, through one handler on stderr in the chosen format."""
    chosen = settings.format or ("console" if sys.stderr.isatty() else "json")
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(StampIds())
    handler.setFormatter(JsonLines(service) if chosen == "json" else Console(service))
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(settings.level)
    # FastStream's and uvicorn's loggers bring coloured handlers of their own: theirs go, and their lines come here.
    for name in ("faststream", "faststream.access.kafka", "uvicorn", "uvicorn.error", "uvicorn.access"):
        library = logging.getLogger(name)
        for existing in list(library.handlers):
            library.removeHandler(existing)
        library.propagate = True
    # httpx logs every request's full URL at INFO (a webhook URL may carry its receiver's key): warnings only.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # DEBUG is for the backbone's own lines (every consumed message, every request); the libraries' debugging
    # (the Kafka client's fetches, the event loop's, HTTP/2 frames) stays at INFO, whatever the level.
    for name in LIBRARIES:
        logging.getLogger(name).setLevel(max(logging.INFO, root.level))
