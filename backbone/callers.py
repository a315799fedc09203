"""The calling agency of an HTTP request, for every service that agencies call."""

from __future__ import annotations

import logging
import math
from typing import Annotated, Any
from uuid import UUID

from fastapi import Depends, HTTPException
from fastapi.responses import JSONResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backbone.agencies import Agency
from backbone.http import problem
from backbone.service import Runtime, ServiceRuntime
from backbone.staff import StaffTokenError, StaffTokens, looks_like_a_jwt
from schemas.vocabulary import AgencyType

log = logging.getLogger(__name__)

_bearer = HTTPBearer(
    auto_error=False,
    description="`<agency id>.<secret>`, as issued by `backbone agency-token`; or a staff member's access token "
    "from the identity provider (backbone/staff.py)",
)


async def _calling_agency(
    runtime: Runtime, token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Agency:
    agency = None
    if token is not None and runtime.staff is not None and looks_like_a_jwt(token.credentials):
        agency = await _staff_member(runtime, runtime.staff, token.credentials)
    elif token is not None and runtime.credentials is not None:
        async with runtime.pool.acquire() as conn:
            agency = await runtime.credentials.by_token(conn, token.credentials)
    if agency is None:
        raise HTTPException(
            401,
            "Send `Authorization: Bearer <agency id>.<secret>` with your agency's token; "
            "ask the backbone's operators for one if you have none.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    wait = runtime.limiter.take(agency.id)
    if wait > 0:
        raise HTTPException(
            429,
            f"{agency.id} sent more than {runtime.limiter.rate:g} requests a second (bursts of "
            f"{runtime.limiter.burst}); wait {wait:.1f}s (Retry-After) and slow down, or ask the operators to "
            "raise the limit if your system needs more.",
            headers={"Retry-After": str(max(1, math.ceil(wait)))},
        )
    return agency


async def _staff_member(runtime: ServiceRuntime, tokens: StaffTokens, token: str) -> Agency | None:
    """A signed-in staff member acts for their agency (one of the directory's). The auditor role gives the
    auditor's rights only, never an agency's, whatever agency the provider names."""
    try:
        member = await tokens.verify(token)
    except StaffTokenError as error:
        log.info("a staff token was refused: %s", error)
        return None
    if AUDITOR_ROLE in member.roles:  # the audit service's callers; nowhere else an agency
        return Agency(AUDITOR_ROLE, AgencyType.AUDITOR, staff=member) if runtime.name == "audit" else None
    entry = runtime.directory.agency(member.agency_id) if member.agency_id else None
    if entry is None or not member.roles & STAFF_ROLES:
        log.info("a staff token names no agency of the directory, or no staff role")
        return None
    return Agency(entry.id, entry.type, staff=member)


AUDITOR_ROLE = "auditor"
STAFF_ROLES = frozenset({"staff", "coordinator", "supervisor"})

CallingAgency = Annotated[Agency, Depends(_calling_agency)]
"""The agency making the request, from its bearer token (401 otherwise)."""

MANAGING_ROLES = frozenset({"supervisor", "coordinator"})


async def _managing_agency(agency: CallingAgency) -> Agency:
    # An agency's system changes its settings as before; a person only with a role that answers for them.
    if agency.staff is not None and not agency.staff.roles & MANAGING_ROLES:
        raise HTTPException(
            403,
            f"Changing {agency.id}'s on-call roster or capacity needs the supervisor or coordinator role; your "
            "account has neither. Ask your agency's supervisor to make the change, or the identity provider's "
            "administrators to grant you the role. Reading them needs no such role.",
        )
    return agency


ManagingAgency = Annotated[Agency, Depends(_managing_agency)]
"""The agency changing its own settings (roster, capacity): its system's token, or a staff member with the
supervisor or coordinator role (403 for any other staff member)."""
MANAGING_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "A staff member without the supervisor or coordinator role"}
}
"""The OpenAPI answer of an operation that takes a ManagingAgency."""


NOT_INVOLVED = (
    "Nothing here for your agency: either it does not exist, or your agency is not involved in its case "
    "(only the agencies that took in, were referred, lead, coordinate or meet on a case may see it). "
    "If a referral to your agency was just proposed, try again in a few seconds."
)


def not_involved() -> JSONResponse:
    """The one refusal of a case's data to an agency not involved in it: the same as for nothing at all."""
    return problem(404, "Not found for your agency", NOT_INVOLVED, type_="urn:jp:fujisawa:welfare:problem:not-involved")


async def involved(runtime: ServiceRuntime, case_id: UUID, agency: Agency) -> bool:
    """Whether the calling agency may read the case (need to know: backbone/involvement.py)."""
    async with runtime.pool.acquire() as conn:
        return await runtime.involvement.is_involved(conn, case_id, agency.id)
