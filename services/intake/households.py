"""Households (世帯): the persons one case concerns.

POLICY (households and cases): a consultation that names a household joins the household's open case, unless
the person already has an open case of their own, which it keeps joining (cases are never merged behind the
agencies' backs; the household is still recorded, and a coordinator brings the two together at a meeting).
A consultation that starts a household makes the person's case the household's. An agency names only a
household it is involved in through one of its cases (need to know): any other id is refused alike, whether it
exists or not, so that ids cannot be probed.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from backbone.db import Connection
from backbone.involvement import Involvement
from schemas.submission import HouseholdLink

UNKNOWN_HOUSEHOLD = (
    "No household with this id that your agency is involved in. Name the household_id an earlier consultation's"
    " answer gave your agency, or leave household_id out to start a new household; nothing was stored."
)


class UnknownHouseholdError(Exception):
    """The household does not exist, or the agency is involved in none of its cases."""


@dataclass(frozen=True)
class Household:
    household_id: UUID
    open_case: UUID | None
    """The household's latest case still open: where a member's consultation goes."""
    relation: str | None = None
    """The person's 続柄, as the consultation gave it."""


async def named(
    conn: Connection, link: HouseholdLink | None, *, agency_id: str, involvement: Involvement
) -> Household | None:
    """The household a consultation names, created when it starts one (call inside the transaction)."""
    if link is None:
        return None
    if link.household_id is None:
        household_id = uuid4()
        await conn.execute("INSERT INTO households (household_id, created_by) VALUES ($1, $2)", household_id, agency_id)
        return Household(household_id, None, link.relation)
    cases = await conn.fetch(
        "SELECT case_id, closed_at FROM cases WHERE household_id = $1 ORDER BY opened_at DESC", link.household_id
    )
    if not await involvement.cases_of(conn, agency_id, (row["case_id"] for row in cases)):
        raise UnknownHouseholdError
    open_case = next((r["case_id"] for r in cases if r["closed_at"] is None), None)
    return Household(link.household_id, open_case, link.relation)


async def join(conn: Connection, household: Household, case_id: UUID, person_id: UUID) -> None:
    """Make the person a member, and the case the household's when it belonged to none."""
    await conn.execute(
        "INSERT INTO household_members (household_id, person_id, relation) VALUES ($1, $2, $3)"
        " ON CONFLICT (household_id, person_id) DO UPDATE"
        " SET relation = COALESCE(EXCLUDED.relation, household_members.relation)",
        household.household_id,
        person_id,
        household.relation,
    )
    await conn.execute(
        "UPDATE cases SET household_id = $2 WHERE case_id = $1 AND household_id IS NULL",
        case_id,
        household.household_id,
    )
