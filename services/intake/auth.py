"""The calling agency, from its bearer token."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backbone.service import Runtime
from services.intake import credentials
from services.intake.context import Intake
from services.intake.credentials import Agency

_bearer = HTTPBearer(auto_error=False, description="`<agency id>.<secret>` as issued by `backbone agency-token`")


async def _agency(runtime: Runtime, token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]) -> Agency:
    agency = None
    if token is not None:
        async with runtime.pool.acquire() as conn:
            agency = await credentials.by_token(conn, token.credentials)
    if agency is None:
        raise HTTPException(
            401,
            "Send `Authorization: Bearer <agency id>.<secret>` with your agency's token; "
            "ask the backbone's operators for one if you have none.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return agency


def _intake(request: Request) -> Intake:
    intake: Intake = request.app.state.intake
    return intake


CallingAgency = Annotated[Agency, Depends(_agency)]
IntakeContext = Annotated[Intake, Depends(_intake)]
