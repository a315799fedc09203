"""Operators' tasks on the local backbone: agency tokens and erasure, straight against the services' databases."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from uuid import UUID

import httpx

from backbone import directory
from backbone.agencies import new_token
from backbone.settings import ServiceName
from console import credentials
from devtools.local.kafka import LocalRuntimeError
from devtools.local.stack import AGENCY_FACING, LocalStack
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


# What agencies change about themselves at run time, each undone by one DELETE as the agency itself.
DIRECTORY_OVERRIDES: tuple[tuple[ServiceName, str], ...] = (
    ("referral", "/v1/agencies/me/capacity"),  # a reported capacity (none, waitlist)
    ("notify", "/v1/rosters/me"),  # a registered roster (people, shifts, webhooks)
)


async def restore_directory_defaults(
    client: Callable[[ServiceName], httpx.AsyncClient], tokens: Mapping[str, str]
) -> None:
    """Every agency in `tokens` back to what the directory says: its own capacity and the default roster
    (e-mail to its on-call address). `client` opens a client of one service (over HTTP, or in-process).

    Routing and delivery depend on these overrides, and they outlive a run: a benchmark, the fault suite,
    the leak scan or the tests need every agency reachable and routable, whatever earlier work (the
    fuzzer reporting "no capacity", a test's webhook roster that points nowhere) left behind.
    """
    for service, path in DIRECTORY_OVERRIDES:
        async with client(service) as http:
            for agency, token in tokens.items():
                answer = await http.delete(path, headers={"Authorization": f"Bearer {token}"})
                if answer.status_code >= 300:
                    raise LocalRuntimeError(
                        f"{service} refused to restore {agency}'s default ({answer.status_code}): {answer.text[:300]}"
                    )


def use_directory_defaults(stack: LocalStack) -> dict[str, str]:
    """`restore_directory_defaults` for every directory agency, against the running services. Replaces
    the agencies' tokens, as the main job does, and returns the new ones (agency id → token)."""
    agencies = directory.load().agencies.values()
    tokens = issue_agency_tokens(stack, [(agency.id, agency.type) for agency in agencies])
    asyncio.run(restore_directory_defaults(lambda s: httpx.AsyncClient(base_url=stack.base_url(s), timeout=30), tokens))
    return tokens
