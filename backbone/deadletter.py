"""The dead-letter record: the original record, byte for byte, plus `dlq.*` headers saying why.

The original value, key and headers are kept unchanged (even a header that is not UTF-8), so a person
can inspect the record and an operator can replay it. The reason is a code from PoisonReason; the
detail never quotes the record's values, which may be personal data.
"""

from __future__ import annotations

from datetime import UTC, datetime

from aiokafka.structs import ConsumerRecord

from backbone.records import PoisonReason

DETAIL_LIMIT = 2000


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
