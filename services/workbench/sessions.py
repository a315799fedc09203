"""Staff sessions and sign-ins under way, kept in the workbench's database.

The browser holds a random id (256 bits) in an HttpOnly cookie; the table holds its SHA-256, the
provider's tokens and the session's CSRF token. The tokens are stored sealed (AES-GCM under the workbench's
session key, bound to their row and column), so a copy of the table, a backup or a dump opens no service
on anyone's behalf. Ending a session deletes its row, so its cookie opens nothing afterwards. Rows past their
end are deleted whenever a session is opened.
"""

from __future__ import annotations

import base64
import hashlib
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import SecretStr

from backbone.callers import AUDITOR_ROLE
from services.workbench.oidc import Challenge, Tokens

log = logging.getLogger(__name__)

SIGN_IN_MINUTES = 10
"""How long the provider's login form may take: a sign-in older than this is refused at the callback."""

NONCE_BYTES = 12


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


class TokenSeal:
    """Seals the provider's tokens for the session table with AES-GCM.

    The associated data is the column and the row's session hash: a sealed token copied into another row, or
    into another column of its own row, does not open, so nobody who can write the table can hand one staff
    member's token to another session.
    """

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise ValueError("the session key must be 32 bytes (base64 of 32 random bytes)")
        self._aead = AESGCM(key)

    @classmethod
    def of(cls, key: SecretStr | None) -> TokenSeal:
        """The seal of BACKBONE_WORKBENCH__SESSION_KEY; without one (allowed locally only), a key of this process,
        so every session ends when the workbench restarts."""
        if key is None:
            log.warning(
                "no BACKBONE_WORKBENCH__SESSION_KEY: sessions are sealed with a key that ends with this process"
            )
            return cls(AESGCM.generate_key(bit_length=256))
        return cls(base64.b64decode(key.get_secret_value()))

    def seal(self, token: str, *, column: str, session_hash: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._aead.encrypt(nonce, token.encode(), _bound_to(column, session_hash))

    def open(self, sealed: bytes, *, column: str, session_hash: bytes) -> str | None:
        """The token, or None if it does not open here (another key, row or column, or altered)."""
        try:
            plain = self._aead.decrypt(sealed[:NONCE_BYTES], sealed[NONCE_BYTES:], _bound_to(column, session_hash))
        except InvalidTag:
            return None
        return plain.decode()


def _bound_to(column: str, session_hash: bytes) -> bytes:
    return b"workbench.sessions." + column.encode() + b"\0" + session_hash


@dataclass(frozen=True)
class Session:
    """A signed-in staff member, as the workbench keeps them."""

    session_hash: bytes
    subject: str
    agency_id: str | None
    roles: frozenset[str]
    display_name: str
    csrf_token: str = field(repr=False)
    id_token: str = field(repr=False)
    access_token: str = field(repr=False)
    access_expires_at: datetime
    refresh_token: str | None = field(repr=False)

    @property
    def auditor(self) -> bool:
        """An auditor reads the audit ledger and nothing else: the auditors' pages only, never an agency's."""
        return AUDITOR_ROLE in self.roles

    def access_expires_within(self, seconds: float) -> bool:
        return self.access_expires_at <= datetime.now(UTC) + timedelta(seconds=seconds)


class Sessions:
    def __init__(self, pool: asyncpg.Pool, *, hours: float, seal: TokenSeal) -> None:
        self.pool = pool
        self.lifetime = timedelta(hours=hours)
        self.seal = seal

    def _sealed(self, session_hash: bytes, tokens: Tokens) -> tuple[bytes, bytes, bytes | None]:
        """The ID, access and refresh tokens as the table keeps them."""
        return (
            self.seal.seal(tokens.id_token, column="id_token", session_hash=session_hash),
            self.seal.seal(tokens.access_token, column="access_token", session_hash=session_hash),
            None
            if tokens.refresh_token is None
            else self.seal.seal(tokens.refresh_token, column="refresh_token", session_hash=session_hash),
        )

    def _session(self, row: asyncpg.Record) -> Session | None:
        """The session of a row; None if its tokens do not open (sealed under another key, or moved)."""
        session_hash: bytes = row["session_hash"]
        id_token = self.seal.open(row["id_token_sealed"], column="id_token", session_hash=session_hash)
        access_token = self.seal.open(row["access_token_sealed"], column="access_token", session_hash=session_hash)
        sealed_refresh = row["refresh_token_sealed"]
        refresh_token = (
            None
            if sealed_refresh is None
            else self.seal.open(sealed_refresh, column="refresh_token", session_hash=session_hash)
        )
        if id_token is None or access_token is None or (sealed_refresh is not None and refresh_token is None):
            log.warning("a session's tokens did not open with the session key; it is treated as ended")
            return None
        return Session(
            session_hash=session_hash,
            subject=row["subject"],
            agency_id=row["agency_id"],
            roles=frozenset(row["roles"]),
            display_name=row["display_name"],
            csrf_token=row["csrf_token"],
            id_token=id_token,
            access_token=access_token,
            access_expires_at=row["access_expires_at"],
            refresh_token=refresh_token,
        )

    async def begin_sign_in(self, challenge: Challenge, *, browser: str, return_to: str) -> None:
        """Keep a sign-in's secrets until the callback, bound to the browser that began it (`browser`, a random
        value in a cookie of its own), so a callback link someone else sends a staff member signs nobody in."""
        await self.pool.execute(
            "INSERT INTO sign_ins (state_hash, browser_hash, nonce, code_verifier, return_to)"
            " VALUES ($1, $2, $3, $4, $5)",
            _hash(challenge.state),
            _hash(browser),
            challenge.nonce,
            challenge.code_verifier,
            return_to,
        )

    async def take_sign_in(self, state: str, *, browser: str) -> tuple[Challenge, str] | None:
        """The sign-in of `state`, once (it is deleted), if this browser began it in the last minutes."""
        row = await self.pool.fetchrow(
            "DELETE FROM sign_ins WHERE state_hash = $1 RETURNING browser_hash, nonce, code_verifier, return_to,"
            " created_at > now() - make_interval(mins => $2) AS fresh",
            _hash(state),
            SIGN_IN_MINUTES,
        )
        if row is None or not row["fresh"] or not secrets.compare_digest(row["browser_hash"], _hash(browser)):
            return None
        return Challenge(state, row["nonce"], row["code_verifier"]), row["return_to"]

    async def open(self, tokens: Tokens) -> str:
        """A new session for a verified sign-in; returns the id for the cookie (shown nowhere else)."""
        session_id = secrets.token_urlsafe(32)
        session_hash = _hash(session_id)
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM sessions WHERE expires_at < now()")
            await conn.execute(
                "DELETE FROM sign_ins WHERE created_at < now() - make_interval(mins => $1)", SIGN_IN_MINUTES
            )
            await conn.execute(
                "INSERT INTO sessions (session_hash, subject, agency_id, roles, display_name, csrf_token,"
                " access_expires_at, id_token_sealed, access_token_sealed, refresh_token_sealed, expires_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, to_timestamp($7), $8, $9, $10, now() + $11)",
                session_hash,
                tokens.member.subject,
                tokens.member.agency_id,
                sorted(tokens.member.roles),
                tokens.display_name,
                secrets.token_urlsafe(32),
                tokens.access_expires_at,
                *self._sealed(session_hash, tokens),
                self.lifetime,
            )
        return session_id

    async def find(self, session_id: str) -> Session | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM sessions WHERE session_hash = $1 AND expires_at > now()", _hash(session_id)
        )
        return None if row is None else self._session(row)

    async def renew(self, session: Session, tokens: Tokens) -> Session | None:
        """Keep the refreshed tokens; None if the session ended meanwhile."""
        row = await self.pool.fetchrow(
            "UPDATE sessions SET access_expires_at = to_timestamp($2), id_token_sealed = $3, access_token_sealed = $4,"
            " refresh_token_sealed = coalesce($5, refresh_token_sealed)"
            " WHERE session_hash = $1 AND expires_at > now() RETURNING *",
            session.session_hash,
            tokens.access_expires_at,
            *self._sealed(session.session_hash, tokens),
        )
        return None if row is None else self._session(row)

    async def close(self, session_hash: bytes) -> None:
        await self.pool.execute("DELETE FROM sessions WHERE session_hash = $1", session_hash)

    async def open_count(self) -> int:
        """How many sessions are open now (not signed out, not past their end)."""
        return int(await self.pool.fetchval("SELECT count(*) FROM sessions WHERE expires_at > now()"))

    async def reachable(self) -> bool:
        """Whether the sessions' database answers."""
        return bool(await self.pool.fetchval("SELECT true"))
