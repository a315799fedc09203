"""Reading dead letters back: what an operator may see of one, and the original record to apply again."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections import Counter
from datetime import UTC, datetime

import pytest
from aiokafka.structs import ConsumerRecord

from backbone.deadletter import NotADeadLetterError, dead_letter_headers, describe, original_record
from backbone.inbox import Position
from backbone.kafka import encode_headers
from backbone.records import PoisonReason
from console import views
from console.deadletters import Listed
from schemas.envelope import Envelope
from schemas.events import ConsultationReceived

EVENT_ID = uuid.uuid4()
PERSONAL = "山田花子 090-1234-5678"


def consumed(*, headers: list[tuple[str, bytes]] | None = None) -> ConsumerRecord[bytes, bytes]:
    envelope = Envelope(
        id=EVENT_ID, source="/t", type=ConsultationReceived.TYPE, time=datetime.now(UTC), correlationid="case-1"
    )
    value = json.dumps({"note": PERSONAL}).encode()
    return ConsumerRecord(
        topic="intake.events.v1",
        partition=4,
        offset=4410,
        timestamp=1_764_460_800_000,
        timestamp_type=0,
        key=b"case-1",
        value=value,
        checksum=None,
        serialized_key_size=6,
        serialized_value_size=len(value),
        headers=encode_headers(envelope.to_headers()) if headers is None else headers,
    )


def dead_letter_of(
    record: ConsumerRecord[bytes, bytes], *, offset: int = 12, attempts: int = 4
) -> ConsumerRecord[bytes, bytes]:
    """What the dead-letter path writes for `record`, as read back from referral.dlq.v1."""
    headers = dead_letter_headers(
        record,
        consumer="referral",
        reason=PoisonReason.HANDLER_FAILED,
        detail="RuntimeError: no agency serves district katase",
        attempts=attempts,
    )
    return dataclasses.replace(
        record, topic="referral.dlq.v1", partition=0, offset=offset, timestamp=1_764_460_900_000, headers=headers
    )


def test_the_original_record_comes_back_as_the_consumer_first_read_it() -> None:
    original = consumed()
    again = original_record(dead_letter_of(original))
    assert (again.topic, again.partition, again.offset) == ("intake.events.v1", 4, 4410)
    assert again.key == original.key
    assert again.value == original.value
    assert again.headers == original.headers  # in order, without any dlq.* header


def test_headers_that_are_not_utf8_come_back_byte_for_byte() -> None:
    original = consumed(headers=[*consumed().headers, ("x-agency-note", b"\xff\xfe\x00")])
    assert original_record(dead_letter_of(original)).headers == original.headers


def test_a_dead_letter_dead_lettered_again_keeps_its_first_origin() -> None:
    # A record that failed again after a re-drive is written from the reconstructed original, so its
    # dlq.* headers are new and its origin is still the event's own topic, partition and offset.
    twice = dead_letter_of(original_record(dead_letter_of(consumed())), offset=30, attempts=4)
    assert sum(1 for name, _ in twice.headers if name == "dlq.topic") == 1
    assert original_record(twice).offset == 4410


def test_describe_names_the_reason_the_origin_and_the_event_but_never_the_value() -> None:
    letter = describe(dead_letter_of(consumed()))
    assert letter.offset == 12
    assert letter.reason == "handler-failed"
    assert letter.detail == "RuntimeError: no agency serves district katase"
    assert letter.origin == Position("intake.events.v1", 4, 4410)
    assert letter.attempts == 4
    assert letter.failed_at is not None and letter.failed_at.tzinfo is not None
    assert letter.event_type == ConsultationReceived.TYPE
    assert letter.event_id == str(EVENT_ID)
    assert PERSONAL not in repr(letter)


def test_a_record_without_dlq_headers_is_described_but_cannot_be_applied_again() -> None:
    stray = dataclasses.replace(
        consumed(), topic="referral.dlq.v1", headers=[("ce_type", b"x"), ("dlq.offset", b"not a number")]
    )
    letter = describe(stray)
    assert letter.origin is None
    assert letter.reason == "?"
    assert letter.failed_at == datetime.fromtimestamp(1_764_460_800, UTC)  # the record's own timestamp
    with pytest.raises(NotADeadLetterError, match=r"dlq\.topic"):
        original_record(stray)


def test_the_listing_shows_the_reason_and_origin_in_jst_and_never_the_value() -> None:
    listed = [Listed(describe(dead_letter_of(consumed())), redriven=False)]
    table = views.dead_letters_table("referral", listed)
    rows = json.loads(views.dead_letters_json(listed))
    assert PERSONAL not in table and PERSONAL not in json.dumps(rows, ensure_ascii=False)
    assert "referral.dlq.v1: 1 dead letter, 1 not re-driven yet" in table
    assert "intake.events.v1[4]@4410" in table and "handler-failed" in table and "waiting" in table
    assert rows == [
        {
            "partition": 0,
            "offset": 12,
            "failed_at": rows[0]["failed_at"],
            "reason": "handler-failed",
            "detail": "RuntimeError: no agency serves district katase",
            "origin": {"topic": "intake.events.v1", "partition": 4, "offset": 4410},
            "attempts": 4,
            "event_type": ConsultationReceived.TYPE,
            "event_id": str(EVENT_ID),
            "redriven": False,
        }
    ]
    assert datetime.fromisoformat(rows[0]["failed_at"]).tzinfo is not None
    assert views.dead_letters_table("referral", []) == "referral.dlq.v1: no dead letters"


def test_a_redrive_summary_counts_each_outcome() -> None:
    outcomes = Counter({"applied": 3, "already done": 1, "failed again": 1})
    summary = views.redrive_summary("referral", outcomes, dry_run=False)
    assert summary.startswith("referral.dlq.v1: 5 dead letters re-driven: 3 applied, 1 already done, 1 failed again")
    assert "`backbone dlq list referral`" in summary
    assert "nothing written" in views.redrive_summary("referral", Counter({"would apply": 2}), dry_run=True)
    assert "nothing to re-drive" in views.redrive_summary("referral", Counter(), dry_run=False)
