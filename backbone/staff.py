"""Staff members as callers: an access token from the city's identity provider (OpenID Connect).

Agency systems call with their agency's token; staff members, through the workbench, with the access
token the identity provider issued when they signed in. The services verify that token themselves
against the provider's published keys (JWKS): the signature with an algorithm fixed here (never the
one the token names), the issuer, the audience `backbone`, the expiry. They take the agency from a
claim (`agency`) and the roles from another (`roles`); the subject (`sub`) is the provider's opaque id
of the person, which is what the backbone records as the author of an action — never a name.

Any OIDC provider serves: the local Keycloak, the city's own, or Entra ID. Which one is configuration
(`BACKBONE_IDENTITY__ISSUER`, and the claim names if the provider's differ); the JWKS address comes from
the provider's discovery document unless set. Keys are fetched on first use and again when a token
names a key not seen yet (a rotation), at most once a minute, so a flood of forged key ids cannot make
the services hammer the provider.
"""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

import httpx
import jwt
from pydantic import BaseModel, ConfigDict, Field

from schemas.events import STAFF_SUBJECT_PATTERN

REFETCH_SECONDS = 60.0


class IdentitySettings(BaseModel):
    """Where staff tokens come from, and what in them names the agency and the roles."""

    model_config = ConfigDict(frozen=True)

    issuer: str = Field(description="The provider's issuer, e.g. http://127.0.0.1:18080/realms/fujisawa")
    jwks_url: str | None = Field(default=None, description="Default: the jwks_uri of the discovery document")
    audience: str = Field(default="backbone", description="The audience every staff token must name")
    agency_claim: str = Field(default="agency", description="The claim that holds the staff member's agency id")
    roles_claim: str = Field(default="roles", description="The claim that holds the roles (a list)")
    algorithms: tuple[str, ...] = Field(default=("RS256",), description="Accepted signature algorithms")
    leeway_seconds: int = Field(default=30, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat")


@dataclass(frozen=True)
class StaffMember:
    """Who signed in: the provider's opaque subject id, their agency, their roles."""

    subject: str
    agency_id: str | None  # None for a member of no agency, such as the city's auditors
    roles: frozenset[str]


class StaffTokenError(Exception):
    """The token is not a valid staff token of the configured provider; the message says why, without the token."""


def looks_like_a_jwt(token: str) -> bool:
    """Staff tokens are JWTs; agency tokens are `<agency id>.<secret>` (one dot)."""
    return token.count(".") == 2 and token.startswith("eyJ")


class ProviderKeys:
    """The provider's published signing keys (JWKS), and the verification of a JWT it signed.

    Shared by the services (staff access tokens, audience `backbone`) and the workbench (the ID token of a
    sign-in, audience the workbench's client id)."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        self._keys: dict[str, Any] = {}
        self._fetched_at = float("-inf")
        self._lock = asyncio.Lock()

    async def decode(self, token: str, *, audience: str, require: tuple[str, ...]) -> dict[str, Any]:
        """The claims of `token` once its signature (with an algorithm fixed by the settings, never the one the
        token names), issuer, audience and times verify; StaffTokenError otherwise."""
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError:
            raise StaffTokenError("not a JWT") from None
        key = await self._key(str(kid))
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=list(self.settings.algorithms),
                audience=audience,
                issuer=self.settings.issuer,
                leeway=self.settings.leeway_seconds,
                options={"require": list(require)},
            )
        except jwt.PyJWTError as error:
            raise StaffTokenError(f"the token does not verify: {type(error).__name__}") from None
        return claims

    async def _key(self, kid: str) -> Any:
        if kid not in self._keys:
            async with self._lock:
                if kid not in self._keys and time.monotonic() - self._fetched_at >= REFETCH_SECONDS:
                    await self._fetch()
        if kid not in self._keys:
            raise StaffTokenError("the token is signed with a key the provider does not publish")
        return self._keys[kid]

    async def _fetch(self) -> None:
        self._fetched_at = time.monotonic()
        async with httpx.AsyncClient(timeout=5.0) as http:
            url = self.settings.jwks_url
            if url is None:
                discovery = await http.get(f"{self.settings.issuer.rstrip('/')}/.well-known/openid-configuration")
                discovery.raise_for_status()
                url = str(discovery.json()["jwks_uri"])
            answer = await http.get(url)
            answer.raise_for_status()
        keys = jwt.PyJWKSet.from_dict(answer.json())
        self._keys = {str(key.key_id): key.key for key in keys.keys if key.public_key_use in (None, "sig")}


class StaffTokens:
    """Verifies staff access tokens against the provider's published keys."""

    def __init__(self, settings: IdentitySettings) -> None:
        self.settings = settings
        self.keys = ProviderKeys(settings)

    async def verify(self, token: str) -> StaffMember:
        claims = await self.keys.decode(
            token, audience=self.settings.audience, require=("exp", "iat", "iss", "aud", "sub")
        )
        return self._member(claims)

    def _member(self, claims: dict[str, Any]) -> StaffMember:
        agency = claims.get(self.settings.agency_claim)
        roles = claims.get(self.settings.roles_claim, [])
        if isinstance(agency, list) and len(agency) == 1:  # a multivalued mapper with one value
            agency = agency[0]
        if agency is not None and (not isinstance(agency, str) or not agency):
            raise StaffTokenError(f"the agency claim {self.settings.agency_claim!r} is not one agency id")
        if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
            raise StaffTokenError(f"the roles claim {self.settings.roles_claim!r} is not a list of names")
        subject = str(claims["sub"])
        if not re.fullmatch(STAFF_SUBJECT_PATTERN, subject):  # e.g. a provider that puts an e-mail address in sub
            raise StaffTokenError("the subject is not an opaque id; configure the provider to issue one")
        return StaffMember(subject=subject, agency_id=agency, roles=frozenset(roles))
