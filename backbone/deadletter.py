"""The dead-letter record: the original record, byte for byte, plus `dlq.*` headers saying why.

The original value, key and headers are kept unchanged (even a header that is not UTF-8), so a person
can inspect the record and an operator can replay it. The reason is a code from PoisonReason; the
detail never quotes the record's values, which may be personal data.

Reading one back: `describe` gives what an operator may see of it (why, where from, which event; never
the payload), `original_record` the record as the consumer first received it, to apply it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord

from backbone.inbox import Position
from backbone.records import PoisonReason

DETAIL_LIMIT = 2000
PREFIX = "dlq."


class NotADeadLetterError(ValueError):
    """A record on a dead-letter topic without the `dlq.*` headers that say where it came from."""


def dead_letter_headers(
    record: ConsumerRecord[bytes, bytes], *, consumer: str, reason: PoisonReason, detail: str, attempts: int
) -> list[tuple[str, bytes]]:
    ours = {
        "dlq.reason": str(reason),
        "dlq.detail": detail[:DETAIL_LIMIT],
        "dlq.consumer": consumer,
        "dlq.topic": record.topic,
        "dlq.partition": str(record.partition),
        "dlq.offset": str(record.offset),
        "dlq.attempts": str(attempts),
        "dlq.failed_at": datetime.now(UTC).isoformat(),
    }
    return [*record.headers, *((name, value.encode("utf-8")) for name, value in ours.items())]


@dataclass(frozen=True)
class DeadLetter:
    """One dead letter as an operator sees it: why it was set aside and where it came from, never its value."""

    partition: int
    offset: int
    reason: str
    detail: str
    origin: Position | None
    attempts: int | None
    failed_at: datetime | None
    event_type: str | None
    event_id: str | None


def describe(letter: ConsumerRecord[bytes, bytes]) -> DeadLetter:
    """Reads the `dlq.*` headers and the event's `ce_type`/`ce_id`; missing ones stay None."""
    headers = _text_headers(letter)
    try:
        origin: Position | None = _origin(headers)
    except NotADeadLetterError:
        origin = None
    return DeadLetter(
        partition=letter.partition,
        offset=letter.offset,
        reason=headers.get("dlq.reason", "?"),
        detail=headers.get("dlq.detail", ""),
        origin=origin,
        attempts=_integer(headers.get("dlq.attempts")),
        failed_at=_moment(headers.get("dlq.failed_at")) or _moment_of(letter.timestamp),
        event_type=headers.get("ce_type"),
        event_id=headers.get("ce_id"),
    )


def original_record(letter: ConsumerRecord[bytes, bytes]) -> ConsumerRecord[bytes, bytes]:
    """The record as its consumer first read it: its topic, partition and offset from the `dlq.*` headers,
    its own headers (without the `dlq.*` ones), its key and value as stored. NotADeadLetterError when the
    headers do not say where it came from."""
    origin = _origin(_text_headers(letter))
    return ConsumerRecord(
        topic=origin.topic,
        partition=origin.partition,
        offset=origin.offset,
        timestamp=letter.timestamp,
        timestamp_type=letter.timestamp_type,
        key=letter.key,
        value=letter.value,
        checksum=None,
        serialized_key_size=letter.serialized_key_size,
        serialized_value_size=letter.serialized_value_size,
        headers=[(name, value) for name, value in letter.headers if not name.startswith(PREFIX)],
    )


def _text_headers(letter: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    # The last value of a name wins: the dead-letter path appends its own `dlq.*` after the original headers.
    return {name: value.decode("utf-8", errors="replace") for name, value in letter.headers}


def _origin(headers: dict[str, str]) -> Position:
    topic, partition, offset = headers.get("dlq.topic"), headers.get("dlq.partition"), headers.get("dlq.offset")
    number, position = _integer(partition), _integer(offset)
    if not topic or number is None or position is None:
        raise NotADeadLetterError(
            "no valid dlq.topic, dlq.partition and dlq.offset headers: the backbone's dead-letter path did not write it"
        )
    return Position(topic, number, position)


def _integer(text: str | None) -> int | None:
    try:
        return int(text) if text is not None else None
    except ValueError:
        return None


def _moment(text: str | None) -> datetime | None:
    try:
        return datetime.fromisoformat(text) if text else None
    except ValueError:
        return None


def _moment_of(timestamp_ms: int) -> datetime | None:
    return datetime.fromtimestamp(timestamp_ms / 1000, UTC) if timestamp_ms and timestamp_ms > 0 else None
