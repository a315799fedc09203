"""The event decoder under hostile input: whatever a record holds, it is an event or a named poison.

Random bytes, random headers (any names, any bytes, duplicates), and well-formed envelopes of real event
types carrying hostile bodies. The consumer relies on `decode` raising nothing but PoisonRecordError:
anything else would stall the partition (the kit dead-letters poison and moves on).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import Any

from aiokafka.structs import ConsumerRecord
from hypothesis import given, settings
from hypothesis import strategies as st

from backbone.kafka import encode_headers
from backbone.records import PoisonRecordError, Received, decode
from schemas.envelope import Envelope
from schemas.events import EVENT_TYPES

TOPICS = sorted({model.TOPIC.name for model in EVENT_TYPES.values()})
JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=200),
    lambda inner: st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=20), inner, max_size=8),
    max_leaves=30,
)


def record(topic: str, value: bytes | None, headers: list[tuple[str, bytes]]) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(
        topic=topic,
        partition=0,
        offset=1,
        timestamp=0,
        timestamp_type=0,
        key=b"k",
        value=value,
        checksum=None,
        serialized_key_size=1,
        serialized_value_size=len(value or b""),
        headers=headers,
    )


def decoded_or_poison(candidate: ConsumerRecord[bytes, bytes]) -> None:
    try:
        assert isinstance(decode(candidate), Received)
    except PoisonRecordError as poison:
        assert poison.reason and poison.detail


@settings(max_examples=300, deadline=None)
@given(
    topic=st.sampled_from(TOPICS),
    value=st.none() | st.binary(max_size=2000),
    headers=st.lists(st.tuples(st.text(max_size=30), st.binary(max_size=100)), max_size=12),
)
def test_random_bytes_and_headers_are_an_event_or_a_named_poison(
    topic: str, value: bytes | None, headers: list[tuple[str, bytes]]
) -> None:
    decoded_or_poison(record(topic, value, headers))


@settings(max_examples=300, deadline=None)
@given(
    event_type=st.sampled_from(sorted(EVENT_TYPES)),
    body=JSON,
    extra=st.lists(st.tuples(st.text(min_size=1, max_size=30), st.binary(max_size=100)), max_size=4),
)
def test_real_envelopes_with_hostile_bodies_are_an_event_or_a_named_poison(
    event_type: str, body: Any, extra: list[tuple[str, bytes]]
) -> None:
    envelope = Envelope(id=uuid.uuid4(), source="/fuzz", type=event_type, time=datetime.now(UTC), correlationid="case")
    value = json.dumps(body).encode()
    topic = EVENT_TYPES[event_type].TOPIC.name
    decoded_or_poison(record(topic, value, encode_headers(envelope.to_headers()) + extra))
