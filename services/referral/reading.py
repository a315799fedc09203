"""referral's reads for agencies, each scoped to what the calling agency needs to know.

A case's referrals go to the agencies involved in it (`backbone/involvement.py`); the at-risk list is
the coordinators' whole, and every other agency's own cases in it. A referral is shown with whose case
it is (intake's opaque `person_id`), so the referred agency can read the person through intake's API
under consent.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from backbone.db import Connection
from backbone.involvement import Involvement

# Every referral view carries the person it is about: the consultation's person (a household's case concerns
# several), else the case's; a case opened before the person was kept shows NULL. Looked up by the cases' key for
# each referral read: a join let the planner hash every case of the city for one inbox.
_REFERRALS = (
    "SELECT r.*, COALESCE(r.about_person, (SELECT c.person_id FROM cases c WHERE c.case_id = r.case_id))"
    " AS person_id FROM referrals r"
)


async def of_case(conn: Connection, case_id: UUID) -> list[asyncpg.Record]:
    return await conn.fetch(f"{_REFERRALS} WHERE r.case_id = $1 ORDER BY r.created_at", case_id)


async def one(conn: Connection, referral_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(f"{_REFERRALS} WHERE r.referral_id = $1", referral_id)


async def inbox(
    conn: Connection,
    agencies: list[str],
    states: list[str],
    *,
    limit: int | None = None,
    offset: int = 0,
    since: datetime | None = None,
) -> tuple[list[asyncpg.Record], int]:
    """The referrals to `agencies` (an agency, and the places it answers for) in `states`, the order a person works
    them in (urgent first, then by deadline), `limit` of them from `offset`, proposed after `since` if given; and
    how many there are in all."""
    # One agency, the usual case, keeps the equality its index serves in the inbox's order.
    to = "r.to_agency = $1" if len(agencies) == 1 else "r.to_agency = ANY($1::text[])"
    where = f"{to} AND r.state = ANY($2::text[]) AND ($3::timestamptz IS NULL OR r.created_at > $3)"
    chosen: str | list[str] = agencies[0] if len(agencies) == 1 else agencies
    rows = await conn.fetch(
        f"{_REFERRALS} WHERE {where} ORDER BY r.urgency <> 'urgent', r.respond_by, r.referral_id LIMIT $4 OFFSET $5",
        chosen,
        states,
        since,
        limit,
        offset,
    )
    reached_the_end = limit is None or len(rows) < limit
    if reached_the_end and (rows or not offset):  # the rows before and these are all there are: no count needed
        return rows, offset + len(rows)
    total = await conn.fetchval(f"SELECT count(*) FROM referrals r WHERE {where}", chosen, states, since)  # noqa: S608
    return rows, int(total)


async def cases_of(conn: Connection, agency_id: str, limit: int) -> list[asyncpg.Record]:
    """The cases the agency is involved in (its own rows of `case_involvement`: a coordinator's too, so that
    "my cases" is the work it took part in, not the whole city's), the latest activity first."""
    return await conn.fetch(CASES_OF_AGENCY, agency_id, limit)


async def case_of(conn: Connection, referral_id: UUID) -> UUID | None:
    case_id: UUID | None = await conn.fetchval("SELECT case_id FROM referrals WHERE referral_id = $1", referral_id)
    return case_id


async def is_case(conn: Connection, case_id: UUID) -> bool:
    """Whether referral knows the case (it has taken in a consultation or a plan of it)."""
    return bool(await conn.fetchval("SELECT true FROM cases WHERE case_id = $1", case_id))


async def outreach_of_case(conn: Connection, case_id: UUID) -> list[asyncpg.Record]:
    """The case's outreach engagements, the first started first."""
    return await conn.fetch("SELECT * FROM outreach WHERE case_id = $1 ORDER BY started_at", case_id)


async def outreach(conn: Connection, outreach_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow("SELECT * FROM outreach WHERE outreach_id = $1", outreach_id)


async def outreach_attempts(conn: Connection, outreach_id: UUID) -> list[asyncpg.Record]:
    """An engagement's contact attempts, the first first."""
    return await conn.fetch("SELECT * FROM outreach_attempts WHERE outreach_id = $1 ORDER BY attempt", outreach_id)


async def case_of_outreach(conn: Connection, outreach_id: UUID) -> UUID | None:
    case_id: UUID | None = await conn.fetchval("SELECT case_id FROM outreach WHERE outreach_id = $1", outreach_id)
    return case_id


async def applied_action(conn: Connection, agency: str, action_id: str) -> asyncpg.Record | None:
    """An agency's applied action by its `ce_id`: the referral, the action and when."""
    return await conn.fetchrow(
        "SELECT referral_id, action, applied_at FROM applied_actions WHERE agency_id = $1 AND action_id = $2",
        agency,
        action_id,
    )


# An agency's refused action by its `ce_id` ($1 the agency, $2 the ce_id), for backbone.outcomes.refusal.
REFUSED_ACTION = "SELECT reasons, rejected_at FROM rejected_actions WHERE agency_id = $1 AND action_id = $2"

# The backbone_referrals_overdue gauge. Overdue as the at-risk list means it: still proposed, and its deadline timer
# has fired. Counted per referral, so this also counts a support plan's referral on a case that already has a lead;
# served by the partial index referrals_overdue.
OVERDUE_REFERRALS = "SELECT count(*) FROM referrals WHERE state = 'proposed' AND overdue_at IS NOT NULL"


async def at_risk(conn: Connection, involvement: Involvement, agency_id: str) -> list[asyncpg.Record]:
    """The cases at risk: all of them for a coordinator, the agency's own for any other."""
    everything = involvement.is_coordinator(agency_id)
    return await conn.fetch(AT_RISK, everything, agency_id)


# No orphan case: every case without a lead either waits on a referral still inside its deadline, or
# shows here with why: in the coordination queue, an overdue referral, or nothing open at all. A case whose
# plan came back for review and has no new plan by the review's overdue time shows too, lead or not. A case
# under outreach is not orphaned (it has its workers) unless no contact attempt was recorded for too long.
AT_RISK = """
SELECT * FROM (
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
  AND NOT EXISTS (SELECT 1 FROM outreach w WHERE w.case_id = c.case_id AND w.state <> 'ended')
  AND ($1 OR EXISTS (SELECT 1 FROM case_involvement i WHERE i.case_id = c.case_id AND i.agency_id = $2))
UNION ALL
SELECT w.case_id, 'outreach: no contact attempt since ' || to_char(coalesce(w.last_attempt_at, w.started_at)
       AT TIME ZONE 'Asia/Tokyo', 'YYYY-MM-DD') AS reason, coalesce(w.last_attempt_at, w.started_at) AS since
FROM outreach w
WHERE w.state <> 'ended' AND w.quiet_until <= now()
  AND ($1 OR EXISTS (SELECT 1 FROM case_involvement i WHERE i.case_id = w.case_id AND i.agency_id = $2))
UNION ALL
SELECT p.case_id, 'support plan not reviewed: due on ' || p.review_on AS reason, p.due_at AS since
FROM plan_reviews p
WHERE p.reviewed_at IS NULL AND p.overdue_at <= now()
  AND ($1 OR EXISTS (SELECT 1 FROM case_involvement i WHERE i.case_id = p.case_id AND i.agency_id = $2))
) at_risk
ORDER BY since
"""


CASES_OF_AGENCY = """
WITH mine AS (SELECT case_id, array_agg(DISTINCT role ORDER BY role) AS roles, min(since) AS since
              FROM case_involvement WHERE agency_id = $1 GROUP BY case_id)
SELECT m.case_id, m.roles, m.since AS involved_since, c.opened_at, c.lead_agency,
       c.queued_at IS NOT NULL AS in_coordination_queue,
       coalesce(r.open_referrals, 0) AS open_referrals, coalesce(r.waiting_for_you, 0) AS waiting_for_you,
       coalesce(r.urgent, false) AS urgent, coalesce(r.last_activity, m.since) AS last_activity
FROM mine m
LEFT JOIN cases c USING (case_id)
LEFT JOIN LATERAL (SELECT count(*) FILTER (WHERE state IN ('proposed', 'accepted', 'in-progress')) AS open_referrals,
                          count(*) FILTER (WHERE state = 'proposed' AND to_agency = $1) AS waiting_for_you,
                          bool_or(urgency = 'urgent') AS urgent, max(updated_at) AS last_activity
                   FROM referrals r WHERE r.case_id = m.case_id) r ON true
ORDER BY last_activity DESC, m.case_id
LIMIT $2
"""
