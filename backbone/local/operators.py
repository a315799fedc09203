"""Operators' tasks on the local backbone: agency tokens and erasure, straight against the services' databases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from uuid import UUID

import asyncpg

from backbone.agencies import Credentials, new_token
from backbone.db import create_pool, migrate
from backbone.local.paths import REPO
from backbone.local.stack import AGENCY_FACING, LocalStack
from backbone.settings import ServiceName
from schemas.vocabulary import AgencyType
from services.intake import persons


def issue_agency_token(
    stack: LocalStack, agency_id: str, agency_type: AgencyType, *, services: tuple[ServiceName, ...] = AGENCY_FACING
) -> str:
    """A new token for the agency, registered in every service that agencies call (replacing any earlier one)."""
    return asyncio.run(_issue(stack, new_token(agency_id), agency_type, services))


def issue_agency_tokens(stack: LocalStack, agencies: list[tuple[str, AgencyType]]) -> dict[str, str]:
    """Tokens for many agencies at once (one connection per service), e.g. for the simulated day."""
    tokens = {agency_id: new_token(agency_id) for agency_id, _ in agencies}
    types = dict(agencies)

    async def register() -> None:
        for service in AGENCY_FACING:
            settings = stack.settings_for(service)
            assert settings.credentials_key is not None
            credentials = Credentials(settings.credentials_key.get_secret_value())
            pool = await create_pool(settings.database)
            try:
                await migrate(pool, service, Path(REPO / "services" / service / "migrations"))
                async with pool.acquire() as conn:
                    for agency_id, token in tokens.items():
                        await credentials.register(conn, token, types[agency_id])
            finally:
                await pool.close()

    asyncio.run(register())
    return tokens


def erase_person(stack: LocalStack, person_id: UUID) -> bool:
    return asyncio.run(_erase(stack, person_id))


async def _issue(stack: LocalStack, token: str, agency_type: AgencyType, services: tuple[ServiceName, ...]) -> str:
    for service in services:
        settings = stack.settings_for(service)
        assert settings.credentials_key is not None
        pool = await create_pool(settings.database)
        try:
            # The service may not have run yet: its tables come from its migrations, which are safe to re-run.
            await migrate(pool, service, Path(REPO / "services" / service / "migrations"))
            async with pool.acquire() as conn:
                await Credentials(settings.credentials_key.get_secret_value()).register(conn, token, agency_type)
        finally:
            await pool.close()
    return token


async def _erase(stack: LocalStack, person_id: UUID) -> bool:
    conn = await asyncpg.connect(stack.settings_for("intake").database.dsn.get_secret_value())
    try:
        return await persons.erase(conn, person_id)
    finally:
        await conn.close()
