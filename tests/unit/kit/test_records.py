"""Classifying consumed records: every way a record can be poison is named, without quoting its values."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ConfigDict, ValidationError

from backbone.kafka import encode_headers
from backbone.records import (
    UNKNOWN_FIELD,
    PoisonReason,
    PoisonRecordError,
    decode,
    describe_validation_error,
    validation_problems,
)
from schemas.envelope import Envelope
from schemas.events import ConsultationReceived

BODY = {
    "case_id": str(uuid.uuid4()),
    "consultation_id": str(uuid.uuid4()),
    "person_id": str(uuid.uuid4()),
    "receiving_agency": "csw-endo",
    "channel": "home-visit",
    "district": "endo",
    "domains": ["carer", "elderly"],
    "urgency": "normal",
    "received_at": "2026-11-30T09:00:00+09:00",
}


def record(
    *,
    body: bytes | None = None,
    headers: list[tuple[str, bytes]] | None = None,
    topic: str = "intake.events.v1",
    type_: str = ConsultationReceived.TYPE,
) -> ConsumerRecord[bytes, bytes]:
    envelope = Envelope(id=uuid.uuid4(), source="/t", type=type_, time=datetime.now(UTC), correlationid="c")
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=7,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=json.dumps(BODY).encode() if body is None else body,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=1,
        headers=encode_headers(envelope.to_headers()) if headers is None else headers,
    )


def reason(poison: ConsumerRecord[bytes, bytes]) -> PoisonReason:
    with pytest.raises(PoisonRecordError) as caught:
        decode(poison)
    return caught.value.reason


def test_a_good_record_becomes_a_typed_event() -> None:
    received = decode(record())
    assert isinstance(received.event, ConsultationReceived)
    assert received.position.offset == 7


def test_each_kind_of_poison_is_named() -> None:
    assert reason(record(headers=[("ce_id", b"\xff")])) is PoisonReason.HEADER_NOT_UTF8
    assert reason(record(headers=[("content-type", b"application/json")])) is PoisonReason.NOT_A_CLOUDEVENT
    assert reason(record(type_="jp.fujisawa.welfare.unknown.v1")) is PoisonReason.UNKNOWN_TYPE
    assert reason(record(topic="referral.events.v1")) is PoisonReason.WRONG_TOPIC
    assert reason(record(body=b"\x00not json")) is PoisonReason.INVALID_JSON


def test_a_schema_violation_names_the_fields_but_never_their_values() -> None:
    secret = "山田花子 090-1234-5678"
    bad = json.dumps({**BODY, "district": secret, "person": secret}).encode()
    with pytest.raises(PoisonRecordError) as caught:
        decode(record(body=bad))
    assert caught.value.reason is PoisonReason.SCHEMA_VIOLATION
    assert "district" in caught.value.detail and UNKNOWN_FIELD in caught.value.detail
    assert "person" not in caught.value.detail  # a field the contract lacks: the sender's word, not repeated
    assert "山田" not in caught.value.detail and "090" not in caught.value.detail


def test_a_field_the_contract_does_not_have_is_refused_without_repeating_its_name() -> None:
    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")
        district: str

    with pytest.raises(ValidationError) as raised:
        Strict.model_validate({"district": 1, "藤沢花子": "x"})
    problems = validation_problems(raised.value)
    assert ("", UNKNOWN_FIELD) in problems and ("district", "Input should be a valid string") in problems
    assert "藤沢花子" not in describe_validation_error(raised.value)
