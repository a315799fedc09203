"""What every fake store shares: the events a step recorded, kept in order with their envelopes, as the real
stores' outbox would publish them (backbone.outbox.TransactionStore)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from uuid import UUID, uuid4

from schemas.envelope import Envelope
from schemas.events import Event


@dataclass
class RecordingFake:
    source: str = "/fake"
    recorded: list[tuple[Envelope, Event]] = field(default_factory=list)

    async def record(
        self, event: Event, *, caused_by: Envelope | UUID | None = None, event_id: UUID | None = None
    ) -> Envelope:
        cause = caused_by.id if isinstance(caused_by, Envelope) else caused_by
        envelope = Envelope(
            id=event_id or uuid4(),
            source=self.source,
            type=event.TYPE,
            time=datetime.now(UTC),
            correlationid=event.record_key(),
            causationid=str(cause) if cause else None,
        )
        self.recorded.append((envelope, event))
        return envelope

    def events(self, kind: type[Event] | None = None) -> list[Event]:
        """What was recorded, in order; only those of `kind` if given."""
        return [event for _, event in self.recorded if kind is None or isinstance(event, kind)]
