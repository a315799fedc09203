"""Operators' tasks on the local backbone: agency tokens and erasure, straight against the services' databases."""

from __future__ import annotations

import asyncio
from uuid import UUID

import httpx

from backbone import directory
from backbone.agencies import new_token
from backbone.local.kafka import LocalRuntimeError
from backbone.local.stack import AGENCY_FACING, LocalStack
from backbone.operations import credentials
from backbone.settings import ServiceName
from schemas.vocabulary import AgencyType
from services.notify.rosters import default_roster


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


def use_default_rosters(stack: LocalStack) -> None:
    """Every directory agency's on-call roster set back to the directory's default (e-mail to the local
    SMTP catcher), through notify's API as each agency.

    The benchmark, the fault suite and the leak scan need every notification to be deliverable: a webhook
    roster left registered by earlier work (the tests register some that point nowhere) would hold
    notifications in retries and stall the run. Replaces the agencies' tokens, as the main job does.
    """
    entries = directory.load().agencies
    tokens = issue_agency_tokens(stack, [(agency.id, agency.type) for agency in entries.values()])
    with httpx.Client(base_url=stack.base_url("notify"), timeout=30) as http:
        for agency, token in tokens.items():
            answer = http.put(
                "/v1/rosters/me",
                content=default_roster(agency, entries[agency].on_call).model_dump_json(),
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            if answer.status_code >= 300:
                raise LocalRuntimeError(f"notify refused {agency}'s roster ({answer.status_code}): {answer.text[:300]}")
