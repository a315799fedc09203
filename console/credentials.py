"""Agency tokens and erasure, straight against a service's own database."""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg

from backbone.agencies import Credentials
from backbone.db import create_pool, migrate
from backbone.outbox import Outbox
from backbone.settings import ServiceName, ServiceSettings
from console.errors import OperatorError
from console.source import migrations_of
from schemas.vocabulary import AgencyType
from services.intake.store import PostgresStore


def token_from(agency_id: str, text: str) -> str:
    """The already-issued token read from stdin, checked to be the agency's; the token is never echoed."""
    token = text.strip()
    secret = token.removeprefix(f"{agency_id}.")
    if secret == token or not secret or any(char.isspace() for char in token):
        raise OperatorError(
            f"stdin does not hold a token of {agency_id}: expected one line `{agency_id}.<secret>`, as "
            f"`backbone agency-token {agency_id} --type …` printed it in intake (the input is not shown here)",
            exit_code=2,
        )
    return token


async def register_token(services: Iterable[ServiceSettings], token: str, agency_type: AgencyType) -> list[ServiceName]:
    """Register `token` in each service's database (replacing the agency's earlier token); returns where."""
    registered: list[ServiceName] = []
    for settings in services:
        await register_tokens(settings, [(token, agency_type)])
        registered.append(settings.service)
    return registered


async def register_tokens(settings: ServiceSettings, tokens: Iterable[tuple[str, AgencyType]]) -> None:
    """Register agencies' tokens in one service's database, over one connection."""
    if settings.credentials_key is None:
        raise OperatorError(
            f"{settings.service} has no BACKBONE_CREDENTIALS_KEY, so it cannot keep agencies' tokens; "
            "set it in the service's settings (deploy/README.md, Where secrets come from)"
        )
    credentials = Credentials(settings.credentials_key.get_secret_value())
    pool = await create_pool(settings.database)
    try:
        # The service may not have run yet: its tables come from its migrations, which are safe to re-run.
        await migrate(pool, settings.service, migrations_of(settings.service))
        async with pool.acquire() as conn:
            for token, agency_type in tokens:
                await credentials.register(conn, token, agency_type)
    finally:
        await pool.close()


async def erase_person(intake: ServiceSettings, person_id: UUID) -> bool:
    """Crypto-shred the person in intake's database; False when unknown or erased already."""
    conn = await asyncpg.connect(intake.database.dsn.get_secret_value())
    try:
        return await PostgresStore(conn, Outbox.of("intake")).erase_person(person_id)  # erasure records no event
    finally:
        await conn.close()
