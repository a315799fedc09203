"""Turning a consumed Kafka record into a typed event, or naming exactly why it cannot be one."""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

from aiokafka.structs import ConsumerRecord
from pydantic import ValidationError
from pydantic_core import ErrorDetails

from backbone.inbox import Position
from backbone.kafka import decode_headers
from schemas.envelope import Envelope, EnvelopeError
from schemas.events import EVENT_TYPES, TOPIC_NAMESPACES, Event

E = TypeVar("E", bound=Event)


class PoisonReason(StrEnum):
    """Why a record went to the dead-letter topic (the `dlq.reason` header)."""

    HEADER_NOT_UTF8 = "header-not-utf8"
    NOT_A_CLOUDEVENT = "not-a-cloudevent"
    UNKNOWN_TYPE = "unknown-event-type"
    WRONG_TOPIC = "wrong-topic"
    INVALID_JSON = "invalid-json"
    SCHEMA_VIOLATION = "schema-violation"
    HANDLER_FAILED = "handler-failed"
    UNAUTHENTICATED = "unauthenticated"


class NewerEventError(Exception):
    """An event of a type this version does not know, in the namespace of the service that writes its topic: a newer
    producer's (a new event, or a new version of one). A tolerant reader leaves it be: it is no poison, and the
    ledger keeps it."""

    def __init__(self, event_type: str) -> None:
        super().__init__(event_type)
        self.event_type = event_type


class PoisonRecordError(Exception):
    """A record that no retry can make processable."""

    def __init__(self, reason: PoisonReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True)
class Received(Generic[E]):
    """One event as a handler sees it: envelope, typed body and where it was read."""

    envelope: Envelope
    event: E
    position: Position
    headers: dict[str, str]


def decode(record: ConsumerRecord[bytes, bytes]) -> Received[Event]:
    """Raises PoisonRecordError with the first thing wrong with the record, NewerEventError for a type that a newer
    version of its producer publishes."""
    try:
        headers = decode_headers(record.headers)
    except UnicodeDecodeError as error:
        raise PoisonRecordError(PoisonReason.HEADER_NOT_UTF8, f"a header value is not UTF-8 ({error.reason})") from None
    try:
        envelope = Envelope.from_headers(headers)
    except EnvelopeError as error:
        raise PoisonRecordError(PoisonReason.NOT_A_CLOUDEVENT, _without_input(error)) from None
    model = EVENT_TYPES.get(envelope.type)
    if model is None:
        if envelope.type.startswith(TOPIC_NAMESPACES.get(record.topic, "\0")):
            raise NewerEventError(envelope.type)
        raise PoisonRecordError(PoisonReason.UNKNOWN_TYPE, f"no event type {envelope.type!r} in schemas/")
    if model.TOPIC.name != record.topic:
        raise PoisonRecordError(
            PoisonReason.WRONG_TOPIC, f"{envelope.type} belongs on {model.TOPIC.name}, not {record.topic}"
        )
    try:
        body = json.loads(record.value or b"")
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise PoisonRecordError(PoisonReason.INVALID_JSON, f"body is not JSON: {error}") from None
    try:
        # Strict producers, tolerant readers: a field this version does not know (a newer producer's optional field)
        # is ignored; a missing required field or a wrong type is still poison.
        event = model.model_validate(body, extra="ignore")
    except ValidationError as error:
        raise PoisonRecordError(PoisonReason.SCHEMA_VIOLATION, describe_validation_error(error)) from None
    return Received(envelope, event, Position(record.topic, record.partition, record.offset), headers)


def validation_problems(error: ValidationError) -> list[tuple[str, str]]:
    """(field path, message) pairs. Never the offending values: they may be personal data. Nor the name of a
    field the contract does not have: the sender chose it, and it may be words (a name typed as a key); such
    a problem names the object that holds it."""
    return [_problem(item) for item in error.errors()]


def _problem(item: ErrorDetails) -> tuple[str, str]:
    if item["type"] == "extra_forbidden":
        return ".".join(map(str, item["loc"][:-1])), UNKNOWN_FIELD
    return ".".join(map(str, item["loc"])), item["msg"]


UNKNOWN_FIELD = "has a field the contract does not have (its name is not repeated): see the JSON Schema"


def describe_validation_error(error: ValidationError) -> str:
    return "; ".join(f"{field or '(body)'}: {message}" for field, message in validation_problems(error))


def _without_input(error: EnvelopeError) -> str:
    cause = error.__cause__
    return describe_validation_error(cause) if isinstance(cause, ValidationError) else str(error)
