"""What meetings answers an agency about its own meetings: its agenda across every case, and one meeting's plan.

Need to know: an agency's agenda holds the meetings it organises or takes part in, and nothing else. The
programme's coordinators (多機関協働) are involved in every case, but a meeting's records go to its organizer and
participants only (a 支援会議's to its members, by the law), so a coordinator's agenda is its own meetings too,
not every meeting of the city; it reads another meeting only once it is made a participant.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

AGENDA_LIMIT = 100
AGENDA_MAX = 500


async def agenda(pool: asyncpg.Pool, agency_id: str, *, now: datetime, limit: int) -> list[asyncpg.Record]:
    """The agency's meetings, organised or attended: those not over yet first (soonest first), then the others
    (latest first), at most `limit`."""
    return await pool.fetch(
        "SELECT * FROM meetings WHERE organizer = $1 OR $1 = ANY(participants)"
        " ORDER BY ends_at < $2, CASE WHEN ends_at >= $2 THEN starts_at END, starts_at DESC LIMIT $3",
        agency_id,
        now,
        limit,
    )


async def plan_of(pool: asyncpg.Pool, meeting_id: UUID) -> dict[str, Any] | None:
    """The support plan the meeting confirmed, with its goals (kept here, never on the bus); None if none yet."""
    row = await pool.fetchrow(
        "SELECT plan_id, goals, roles, review_on, confirmed_by, confirmed_at FROM plans WHERE meeting_id = $1",
        meeting_id,
    )
    if row is None:
        return None
    return {**dict(row), "goals": json.loads(row["goals"]), "roles": json.loads(row["roles"])}
