"""The services' log lines: JSON objects with the ids that lead to the trace and the ledger, or readable text on a
terminal; the record a consumer works on is named by every line written while it does (tests/integration/test_logs.py
follows the lines of a consultation through the services)."""

from __future__ import annotations

import json
import logging
import sys

import pytest
from opentelemetry.sdk.trace import TracerProvider

from backbone import logs
from schemas.events import (
    NotificationAcknowledged,
    NotificationDelivered,
    NotificationFailed,
    PersonalDataDisclosed,
    ReferralDeclined,
    ReferralProposed,
)

TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
HEADERS = {
    "ce_id": "7d3f0a52-1b7e-4a1c-9a52-4b0f2f0c1e11",
    "ce_type": "jp.fujisawa.welfare.referral.proposed.v1",
    "ce_correlationid": "0b7c6e2a-5d5b-4d0e-8f7e-1c2d3e4f5a6b",
    "traceparent": TRACEPARENT,
}


def line(formatter: logging.Formatter, message: str = "published it", **extra: object) -> str:
    record = logging.LogRecord("backbone.outbox", logging.INFO, __file__, 1, message, None, None)
    record.__dict__.update(extra)
    return formatter.format(record)


def test_a_json_line_has_the_time_level_service_logger_and_message() -> None:
    written = json.loads(line(logs.JsonLines("referral")))
    assert written["level"] == "INFO" and written["service"] == "referral" and written["logger"] == "backbone.outbox"
    assert written["message"] == "published it" and written["time"].endswith("Z")
    assert "trace_id" not in written  # no span, no bound record: no ids invented


def test_a_line_written_inside_a_span_carries_its_trace_and_span_ids() -> None:
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("referral.events process") as span:
        written = json.loads(line(logs.JsonLines("referral")))
        context = span.get_span_context()
    assert written["trace_id"] == format(context.trace_id, "032x")
    assert written["span_id"] == format(context.span_id, "016x")


def test_an_events_headers_give_its_id_type_case_and_trace() -> None:
    fields = logs.event_fields(HEADERS, "referral.events.v1")
    assert fields == {
        "topic": "referral.events.v1",
        "event_id": HEADERS["ce_id"],
        "event_type": HEADERS["ce_type"],
        "case_id": HEADERS["ce_correlationid"],
        "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736",
        "span_id": "00f067aa0ba902b7",
    }
    written = json.loads(line(logs.JsonLines("referral"), **fields))
    assert written["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736" and written["event_id"] == HEADERS["ce_id"]


def test_headers_without_a_trace_give_no_trace_id() -> None:
    assert "trace_id" not in logs.event_fields({"ce_id": "x", "traceparent": "garbled"}, "t")


def test_every_line_written_about_a_record_names_it_and_the_binding_ends_with_the_block() -> None:
    formatter = logs.JsonLines("notify")
    with (
        logs.about_record(topic="referral.events.v1", partition=2, offset=41, event_id="e-1"),
        logs.about_record(consumer="notify"),
    ):
        inside = json.loads(line(formatter, "handler failed, attempt 1 of 4"))
    after = json.loads(line(formatter))
    assert (inside["topic"], inside["partition"], inside["offset"], inside["event_id"]) == (
        "referral.events.v1",
        2,
        41,
        "e-1",
    )
    assert inside["consumer"] == "notify"
    assert "offset" not in after and "consumer" not in after


def test_an_exception_goes_into_the_line_as_one_field() -> None:
    try:
        raise ValueError("no such referral")  # noqa: TRY301
    except ValueError:
        record = logging.LogRecord("backbone.delivery", logging.ERROR, __file__, 1, "failed", None, sys.exc_info())
    written = json.loads(logs.JsonLines("referral").format(record))
    assert "ValueError: no such referral" in written["error"] and "\n" not in logs.JsonLines("x").format(record)


def test_the_console_line_is_text_with_the_ids_in_short() -> None:
    text = line(logs.Console("intake"), event_id="e-1", trace_id="4bf92f3577b34da6a3ce929d0e0e4736", span_id="00f0")
    assert " intake INFO backbone.outbox: published it" in text
    assert "event_id=e-1" in text and "trace_id=4bf92f3577b34da6" in text and "span_id" not in text
    assert "{" not in text


def test_the_format_follows_the_setting_and_otherwise_whether_stderr_is_a_terminal(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    root = logging.getLogger()
    kept = list(root.handlers), root.level
    try:
        logs.configure("audit", logs.LogSettings(format="console"))
        assert isinstance(root.handlers[-1].formatter, logs.Console) and len(root.handlers) == 1
        monkeypatch.setattr(sys.stderr, "isatty", lambda: False)
        logs.configure("audit", logs.LogSettings(level="WARNING"))
        assert isinstance(root.handlers[-1].formatter, logs.JsonLines) and root.level == logging.WARNING
        assert not logging.getLogger("faststream").handlers and logging.getLogger("faststream").propagate
        logs.configure("audit", logs.LogSettings(level="DEBUG"))
        assert root.level == logging.DEBUG and logging.getLogger("aiokafka").level == logging.INFO  # libraries stay
    finally:
        root.handlers[:], _ = kept[0], root.setLevel(kept[1])


def test_a_routine_events_publication_is_a_debug_line_and_a_decisions_is_an_info_line() -> None:
    assert logs.published_level(NotificationDelivered.TYPE) == logging.DEBUG
    assert logs.published_level(PersonalDataDisclosed.TYPE) == logging.DEBUG
    for decided in (ReferralProposed, ReferralDeclined, NotificationFailed, NotificationAcknowledged):
        assert logs.published_level(decided.TYPE) == logging.INFO, decided.__name__
    assert logs.published_level("an.unknown.type.v1") == logging.INFO  # what is not known to be routine is shown
