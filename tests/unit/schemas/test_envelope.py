from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest

from schemas.envelope import Envelope, EnvelopeError


def envelope() -> Envelope:
    return Envelope(
        id=uuid.uuid4(),
        source="/fujisawa/backbone/intake",
        type="jp.fujisawa.welfare.intake.consultation.received.v1",
        time=datetime(2026, 4, 1, 9, 30, tzinfo=UTC),
        subject="case/1",
        correlationid="1",
        causationid="0",
    )


def test_headers_are_cloudevents_binary_mode_and_read_back() -> None:
    original = envelope()
    headers = original.to_headers()
    assert headers["ce_specversion"] == "1.0"
    assert headers["ce_time"] == "2026-04-01T09:30:00Z"
    assert headers["content-type"] == "application/json"
    assert "ce_datacontenttype" not in headers
    assert Envelope.from_headers(headers) == original


def test_a_record_without_ce_headers_is_not_a_cloudevent() -> None:
    with pytest.raises(EnvelopeError, match="no ce_ headers"):
        Envelope.from_headers({"content-type": "application/json"})


def test_a_missing_required_attribute_is_named() -> None:
    headers = envelope().to_headers()
    del headers["ce_source"]
    with pytest.raises(EnvelopeError, match="source"):
        Envelope.from_headers(headers)
