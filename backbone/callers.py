"""The calling agency of an HTTP request, for every service that agencies call."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from backbone.agencies import Agency
from backbone.service import Runtime

_bearer = HTTPBearer(auto_error=False, description="`<agency id>.<secret>`, as issued by `backbone agency-token`")


async def _calling_agency(
    runtime: Runtime, token: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)]
) -> Agency:
    agency = None
    if token is not None and runtime.credentials is not None:
        async with runtime.pool.acquire() as conn:
            agency = await runtime.credentials.by_token(conn, token.credentials)
    if agency is None:
        raise HTTPException(
            401,
            "Send `Authorization: Bearer <agency id>.<secret>` with your agency's token; "
            "ask the backbone's operators for one if you have none.",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return agency


CallingAgency = Annotated[Agency, Depends(_calling_agency)]
"""The agency making the request, from its bearer token (401 otherwise)."""
