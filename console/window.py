"""The time window of `backbone outbox replay`: moments given with their UTC offset, never naive."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

EXAMPLE = "2026-11-30T09:00:00+09:00"


def moment(text: str) -> datetime:
    """An ISO 8601 time with its offset; ValueError for a naive one, which could mean several moments."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text!r} is not an ISO 8601 time; for example {EXAMPLE}") from None
    if parsed.utcoffset() is None:
        raise ValueError(
            f"{text!r} has no UTC offset, so it could be Japan time or the server's; "
            f"add one, e.g. {parsed.isoformat()}+09:00 (Japan) or {parsed.isoformat()}Z (UTC)"
        )
    return parsed


@dataclass(frozen=True)
class Window:
    """Outbox rows sent at or after `since` and, if given, before `until`."""

    since: datetime
    until: datetime | None = None

    def __post_init__(self) -> None:
        if self.until is not None and self.until <= self.since:
            raise ValueError(f"--until {self.until.isoformat()} is not after --since {self.since.isoformat()}")
