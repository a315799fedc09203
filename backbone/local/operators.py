"""Operators' tasks on the local backbone: agency tokens and erasure, straight against the services' databases."""

from __future__ import annotations

import asyncio
from uuid import UUID

from backbone.agencies import new_token
from backbone.local.stack import AGENCY_FACING, LocalStack
from backbone.operations import credentials
from backbone.settings import ServiceName
from schemas.vocabulary import AgencyType


def issue_agency_token(
    stack: LocalStack, agency_id: str, agency_type: AgencyType, *, services: tuple[ServiceName, ...] = AGENCY_FACING
) -> str:
    """A new token for the agency, registered in every service that agencies call (replacing any earlier one)."""
    token = new_token(agency_id)
    asyncio.run(credentials.register_token([stack.settings_for(s) for s in services], token, agency_type))
    return token


def issue_agency_tokens(stack: LocalStack, agencies: list[tuple[str, AgencyType]]) -> dict[str, str]:
    """Tokens for many agencies at once (one connection per service), e.g. for the simulated day."""
    tokens = {agency_id: new_token(agency_id) for agency_id, _ in agencies}
    types = dict(agencies)

    async def register() -> None:
        for service in AGENCY_FACING:
            await credentials.register_tokens(
                stack.settings_for(service), [(token, types[agency_id]) for agency_id, token in tokens.items()]
            )

    asyncio.run(register())
    return tokens


def erase_person(stack: LocalStack, person_id: UUID) -> bool:
    return asyncio.run(credentials.erase_person(stack.settings_for("intake"), person_id))
