"""Households (世帯): the persons one case concerns.

POLICY (households and cases): a consultation that names a household joins the household's open case, unless
the person already has an open case of their own, which it keeps joining (cases are never merged behind the
agencies' backs; the household is still recorded, and a coordinator brings the two together at a meeting).
A consultation that starts a household makes the person's case the household's. An agency names only a
household it is involved in through one of its cases (need to know): any other id is refused alike, whether it
exists or not, so that ids cannot be probed. Households and their members are kept through the store
(services/intake/store.py), in the transaction of the consultation.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from backbone.involvement import Involvement
from schemas.submission import HouseholdLink
from services.intake.store import PostgresStore

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
    store: PostgresStore, link: HouseholdLink | None, *, agency_id: str, involvement: Involvement
) -> Household | None:
    """The household a consultation names, created when it starts one (call inside the transaction)."""
    if link is None:
        return None
    if link.household_id is None:
        household_id = uuid4()
        await store.add_household(household_id, agency_id)
        return Household(household_id, None, link.relation)
    cases = await store.cases_of_household(link.household_id)
    if not await involvement.cases_of(store.conn, agency_id, (case.case_id for case in cases)):
        raise UnknownHouseholdError
    open_case = next((case.case_id for case in cases if case.closed_at is None), None)
    return Household(link.household_id, open_case, link.relation)


async def join(store: PostgresStore, household: Household, case_id: UUID, person_id: UUID) -> None:
    """Make the person a member, and the case the household's when it belonged to none."""
    await store.join_household(household.household_id, person_id, household.relation)
    await store.case_to_household(case_id, household.household_id)
