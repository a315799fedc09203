"""Operators' tasks on the local backbone: agency tokens and erasure, straight against intake's database."""

from __future__ import annotations

import asyncio
from uuid import UUID

import asyncpg

from backbone.local.stack import LocalStack
from schemas.vocabulary import AgencyType
from services.intake import credentials, persons
from services.intake.crypto import Vault
from services.intake.keys import IntakeKeys


def issue_agency_token(stack: LocalStack, agency_id: str, agency_type: AgencyType) -> str:
    return asyncio.run(_issue(stack, agency_id, agency_type))


def erase_person(stack: LocalStack, person_id: UUID) -> bool:
    return asyncio.run(_erase(stack, person_id))


async def _issue(stack: LocalStack, agency_id: str, agency_type: AgencyType) -> str:
    vault = Vault(IntakeKeys.model_validate(stack.intake_keys()).raw("master_key"))
    conn = await asyncpg.connect(stack.settings_for("intake").database.dsn.get_secret_value())
    try:
        return await credentials.issue(conn, vault, agency_id=agency_id, agency_type=agency_type)
    finally:
        await conn.close()


async def _erase(stack: LocalStack, person_id: UUID) -> bool:
    conn = await asyncpg.connect(stack.settings_for("intake").database.dsn.get_secret_value())
    try:
        return await persons.erase(conn, person_id)
    finally:
        await conn.close()
