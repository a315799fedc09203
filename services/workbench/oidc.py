"""Signing staff in with OpenID Connect: the authorization code flow with PKCE (S256), state and nonce.

The flow is small enough to write out, and writing it out keeps every check in sight:

1. `begin` makes a random state, nonce and PKCE verifier; the browser goes to the provider's
   authorization endpoint with the state, the nonce and the verifier's S256 challenge.
2. The provider sends the browser back to the redirect URI with a code and the state. The workbench finds
   the sign-in by its state (and the browser that began it), then `finish` exchanges the code with the
   verifier at the token endpoint (a public client: no secret).
3. The ID token is verified: signature with the provider's published keys, issuer, audience = the
   workbench's client id, expiry, and the nonce of this sign-in. The access token is verified as the
   services verify it (audience `backbone`, the agency claim), and both must name the same subject.

Endpoints come from the provider's discovery document, whose issuer must be the configured one.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx

from backbone.staff import IdentitySettings, ProviderKeys, StaffMember, StaffTokenError, StaffTokens
from services.workbench.settings import WorkbenchOptions


class SignInError(Exception):
    """The sign-in cannot complete; the message says why (never a token)."""


@dataclass(frozen=True)
class Endpoints:
    authorization: str
    token: str
    end_session: str | None


@dataclass(frozen=True)
class Challenge:
    """What a sign-in keeps until the provider sends the browser back."""

    state: str
    nonce: str
    code_verifier: str


@dataclass(frozen=True)
class Tokens:
    """A token response, verified: who signed in, and the tokens the workbench keeps for them."""

    member: StaffMember
    display_name: str
    id_token: str
    access_token: str
    access_expires_at: float
    refresh_token: str | None


def s256(verifier: str) -> str:
    """The PKCE code challenge of a verifier (RFC 7636 §4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def new_challenge() -> Challenge:
    return Challenge(secrets.token_urlsafe(32), secrets.token_urlsafe(32), secrets.token_urlsafe(64))


class Provider:
    """The identity provider, as the workbench's public client sees it."""

    def __init__(self, identity: IdentitySettings, options: WorkbenchOptions, http: httpx.AsyncClient) -> None:
        self.identity = identity
        self.options = options
        self.http = http
        self.keys = ProviderKeys(identity)
        self.access_tokens = StaffTokens(identity)
        self._endpoints: Endpoints | None = None

    async def endpoints(self) -> Endpoints:
        if self._endpoints is None:
            issuer = self.identity.issuer.rstrip("/")
            answer = await self.http.get(f"{issuer}/.well-known/openid-configuration")
            answer.raise_for_status()
            document = answer.json()
            if str(document.get("issuer", "")).rstrip("/") != issuer:
                raise SignInError("the provider's discovery document names another issuer")
            self._endpoints = Endpoints(
                str(document["authorization_endpoint"]),
                str(document["token_endpoint"]),
                document.get("end_session_endpoint"),
            )
        return self._endpoints

    async def authorization_url(self, challenge: Challenge, *, locale: str) -> str:
        query = {
            "response_type": "code",
            "client_id": self.options.client_id,
            "redirect_uri": self.options.redirect_uri,
            "scope": self.options.scopes,
            "state": challenge.state,
            "nonce": challenge.nonce,
            "code_challenge": s256(challenge.code_verifier),
            "code_challenge_method": "S256",
            "ui_locales": locale,
        }
        return f"{(await self.endpoints()).authorization}?{urlencode(query)}"

    async def finish(self, code: str, challenge: Challenge) -> Tokens:
        """Exchange the code (with the PKCE verifier) and verify what comes back."""
        answer = await self._token_request(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": self.options.redirect_uri,
                "code_verifier": challenge.code_verifier,
            }
        )
        return await self._verified(answer, nonce=challenge.nonce)

    async def refresh(self, refresh_token: str) -> Tokens:
        """New tokens for a session whose access token expired; SignInError when the provider ended it."""
        answer = await self._token_request({"grant_type": "refresh_token", "refresh_token": refresh_token})
        return await self._verified(answer, nonce=None)

    async def logout_url(self, id_token: str) -> str | None:
        """The provider's end-session endpoint with the ID token as hint, back to the workbench's front page."""
        endpoint = (await self.endpoints()).end_session
        if endpoint is None:
            return None
        query = {
            "id_token_hint": id_token,
            "post_logout_redirect_uri": f"{self.options.public_url.rstrip('/')}/",
            "client_id": self.options.client_id,
        }
        return f"{endpoint}?{urlencode(query)}"

    async def _token_request(self, form: dict[str, str]) -> dict[str, Any]:
        form = {**form, "client_id": self.options.client_id}
        answer = await self.http.post((await self.endpoints()).token, data=form)
        if answer.status_code != 200:
            error = answer.json().get("error", answer.status_code) if _is_json(answer) else answer.status_code
            raise SignInError(f"the provider refused the token request ({error})")
        body: dict[str, Any] = answer.json()
        return body

    async def _verified(self, answer: dict[str, Any], *, nonce: str | None) -> Tokens:
        try:
            id_token, access_token = str(answer["id_token"]), str(answer["access_token"])
        except KeyError:
            raise SignInError("the provider's answer lacks an ID token or an access token") from None
        try:
            claims = await self.keys.decode(
                id_token, audience=self.options.client_id, require=("exp", "iat", "iss", "aud", "sub")
            )
            member = await self.access_tokens.verify(access_token)
        except StaffTokenError as error:
            raise SignInError(str(error)) from None
        # A refreshed ID token carries the nonce of the first sign-in, or none (OIDC Core §12.2).
        if nonce is not None and not hmac.compare_digest(str(claims.get("nonce", "")), nonce):
            raise SignInError("the ID token's nonce is not this sign-in's")
        if claims["sub"] != member.subject:
            raise SignInError("the ID token and the access token name different people")
        return Tokens(
            member=member,
            display_name=str(claims.get("name", "")),
            id_token=id_token,
            access_token=access_token,
            access_expires_at=time.time() + float(answer.get("expires_in", 60)),
            refresh_token=answer.get("refresh_token"),
        )


def _is_json(answer: httpx.Response) -> bool:
    return str(answer.headers.get("content-type", "")).startswith("application/json")
