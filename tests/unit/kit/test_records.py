"""Classifying consumed records: every way a record can be poison is named, without quoting its values; and what a
tolerant reader lets pass that a strict one would not (a newer producer's optional field, extension attribute or
event type)."""

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
    NewerEventError,
    PoisonReason,
    PoisonRecordError,
    decode,
    describe_validation_error,
    validation_problems,
)
from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES, TOPIC_NAMESPACES, ConsultationReceived, namespace_of

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
    assert "district" in caught.value.detail
    assert "person" not in caught.value.detail  # a field the contract lacks is ignored on read, and never repeated
    assert "山田" not in caught.value.detail and "090" not in caught.value.detail


def test_a_newer_producers_optional_field_is_ignored_and_its_extension_attribute_too() -> None:
    newer = json.dumps({**BODY, "preferred_language": "pt-BR", "household": {"size": 3}}).encode()
    envelope = Envelope(
        id=uuid.uuid4(), source="/t", type=ConsultationReceived.TYPE, time=datetime.now(UTC), correlationid="c"
    )
    headers = encode_headers({**envelope.to_headers(), "ce_deprecation": "2027-04-01"})
    received = decode(record(body=newer, headers=headers))
    assert isinstance(received.event, ConsultationReceived)
    kept = received.event.model_dump(mode="json")
    assert "preferred_language" not in kept and "household" not in kept
    assert received.event.model_dump(mode="json")["district"] == "endo"


def test_what_the_reader_cannot_understand_is_still_poison() -> None:
    missing = json.dumps({k: v for k, v in BODY.items() if k != "case_id"}).encode()
    assert reason(record(body=missing)) is PoisonReason.SCHEMA_VIOLATION
    assert reason(record(body=json.dumps({**BODY, "urgency": "whenever"}).encode())) is PoisonReason.SCHEMA_VIOLATION
    assert reason(record(body=json.dumps({**BODY, "domains": "elderly"}).encode())) is PoisonReason.SCHEMA_VIOLATION


def test_a_type_newer_than_the_reader_in_its_producers_namespace_is_no_poison() -> None:
    with pytest.raises(NewerEventError) as caught:
        decode(record(type_="jp.fujisawa.welfare.intake.consultation.received.v2"))
    assert caught.value.event_type == "jp.fujisawa.welfare.intake.consultation.received.v2"
    with pytest.raises(NewerEventError):
        decode(record(type_="jp.fujisawa.welfare.intake.person.relocated.v1"))
    # Another service's namespace on this topic, or none of the backbone's: nobody could have written it rightly.
    assert reason(record(type_="jp.fujisawa.welfare.referral.referral.proposed.v2")) is PoisonReason.UNKNOWN_TYPE
    assert reason(record(type_="com.example.anything.v1")) is PoisonReason.UNKNOWN_TYPE


def test_every_events_topic_is_written_in_one_services_namespace() -> None:
    for event_type, model in EVENT_TYPES.items():
        assert TOPIC_NAMESPACES[model.TOPIC.name] == namespace_of(event_type), event_type


def test_a_field_the_contract_does_not_have_is_refused_without_repeating_its_name() -> None:
    class Strict(BaseModel):
        model_config = ConfigDict(extra="forbid")
        district: str

    with pytest.raises(ValidationError) as raised:
        Strict.model_validate({"district": 1, "藤沢花子": "x"})
    problems = validation_problems(raised.value)
    assert ("", UNKNOWN_FIELD) in problems and ("district", "Input should be a valid string") in problems
    assert "藤沢花子" not in describe_validation_error(raised.value)
