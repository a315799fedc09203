"""referral's reads for agencies, each scoped to what the calling agency needs to know.

A case's referrals go to the agencies involved in it (`backbone/involvement.py`); the at-risk list is
the coordinators' whole, and every other agency's own cases in it. A referral is shown with whose case
it is (intake's opaque `person_id`), so the referred agency can read the person through intake's API
under consent.
"""

from __future__ import annotations

from uuid import UUID

import asyncpg

from backbone.db import Connection
from backbone.involvement import Involvement

# Every referral view carries the case's person; a case opened before the person was kept shows NULL.
_REFERRALS = "SELECT r.*, c.person_id FROM referrals r LEFT JOIN cases c USING (case_id)"


async def of_case(conn: Connection, case_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(f"{_REFERRALS} WHERE r.case_id = $1 ORDER BY r.created_at", case_id)


async def one(conn: Connection, referral_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{_REFERRALS} WHERE r.referral_id = $1", referral_id)


async def inbox(conn: Connection, agency_id: str, states: list[str]) -> list[asyncpg.Record]:
    return await conn.fetch(
        f"{_REFERRALS} WHERE r.to_agency = $1 AND r.state = ANY($2::text[]) ORDER BY r.respond_by",
        agency_id,
        states,
    )


async def case_of(conn: Connection, referral_id: UUID) -> UUID | None:
    case_id: UUID | None = await conn.fetchval("SELECT case_id FROM referrals WHERE referral_id = $1", referral_id)
    return case_id


async def remember_person(conn: Connection, case_id: UUID, person_id: UUID) -> None:
    """Keep whose case it is (from the consultation that opened or joined it)."""
    await conn.execute("UPDATE cases SET person_id = $2 WHERE case_id = $1 AND person_id IS NULL", case_id, person_id)


async def at_risk(conn: Connection, involvement: Involvement, agency_id: str) -> list[asyncpg.Record]:
    """The cases at risk: all of them for a coordinator, the agency's own for any other."""
    everything = involvement.is_coordinator(agency_id)
    return await conn.fetch(AT_RISK, everything, agency_id)


# No orphan case: every case without a lead either waits on a referral still inside its deadline, or
# shows here with why: in the coordination queue, an overdue referral, or nothing open at all.
AT_RISK = """
SELECT c.case_id,
       CASE WHEN c.queued_at IS NOT NULL THEN 'in the coordination queue: ' || c.queue_reason
            WHEN o.overdue_at IS NOT NULL THEN 'referral to ' || o.to_agency || ' overdue (escalation level '
                                                || o.escalation_level || ')'
            ELSE 'no open referral' END AS reason,
       coalesce(c.queued_at, o.overdue_at, c.opened_at) AS since
FROM cases c
LEFT JOIN LATERAL (SELECT to_agency, overdue_at, escalation_level FROM referrals r
                   WHERE r.case_id = c.case_id AND r.state = 'proposed' ORDER BY created_at DESC LIMIT 1) o ON true
WHERE c.lead_agency IS NULL AND (c.queued_at IS NOT NULL OR o.to_agency IS NULL OR o.overdue_at IS NOT NULL)
  AND ($1 OR EXISTS (SELECT 1 FROM case_involvement i WHERE i.case_id = c.case_id AND i.agency_id = $2))
ORDER BY since
"""
