"""Staff sessions and sign-ins under way, kept in the workbench's database.

The browser holds a random id (256 bits) in an HttpOnly cookie; the table holds its SHA-256, the
provider's tokens and the session's CSRF token. Ending a session deletes its row, so its cookie opens
nothing afterwards. Rows past their end are deleted whenever a session is opened.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from backbone.callers import AUDITOR_ROLE
from services.workbench.oidc import Challenge, Tokens

SIGN_IN_MINUTES = 10
"""How long the provider's login form may take: a sign-in older than this is refused at the callback."""


def _hash(secret: str) -> bytes:
    return hashlib.sha256(secret.encode()).digest()


@dataclass(frozen=True)
class Session:
    """A signed-in staff member, as the workbench keeps them."""

    session_hash: bytes
    subject: str
    agency_id: str | None
    roles: frozenset[str]
    display_name: str
    csrf_token: str
    id_token: str
    access_token: str
    access_expires_at: datetime
    refresh_token: str | None

    @property
    def auditor(self) -> bool:
        """An auditor reads the audit ledger and nothing else: the auditors' pages only, never an agency's."""
        return AUDITOR_ROLE in self.roles

    def access_expires_within(self, seconds: float) -> bool:
        return self.access_expires_at <= datetime.now(UTC) + timedelta(seconds=seconds)

    @classmethod
    def of(cls, row: asyncpg.Record) -> Session:
        return cls(
            session_hash=row["session_hash"],
            subject=row["subject"],
            agency_id=row["agency_id"],
            roles=frozenset(row["roles"]),
            display_name=row["display_name"],
            csrf_token=row["csrf_token"],
            id_token=row["id_token"],
            access_token=row["access_token"],
            access_expires_at=row["access_expires_at"],
            refresh_token=row["refresh_token"],
        )


class Sessions:
    def __init__(self, pool: asyncpg.Pool, *, hours: float) -> None:
        self.pool = pool
        self.lifetime = timedelta(hours=hours)

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
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM sessions WHERE expires_at < now()")
            await conn.execute(
                "DELETE FROM sign_ins WHERE created_at < now() - make_interval(mins => $1)", SIGN_IN_MINUTES
            )
            await conn.execute(
                "INSERT INTO sessions (session_hash, subject, agency_id, roles, display_name, csrf_token, id_token,"
                " access_token, access_expires_at, refresh_token, expires_at)"
                " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, to_timestamp($9), $10, now() + $11)",
                _hash(session_id),
                tokens.member.subject,
                tokens.member.agency_id,
                sorted(tokens.member.roles),
                tokens.display_name,
                secrets.token_urlsafe(32),
                tokens.id_token,
                tokens.access_token,
                tokens.access_expires_at,
                tokens.refresh_token,
                self.lifetime,
            )
        return session_id

    async def find(self, session_id: str) -> Session | None:
        row = await self.pool.fetchrow(
            "SELECT * FROM sessions WHERE session_hash = $1 AND expires_at > now()", _hash(session_id)
        )
        return None if row is None else Session.of(row)

    async def renew(self, session: Session, tokens: Tokens) -> Session | None:
        """Keep the refreshed tokens; None if the session ended meanwhile."""
        row = await self.pool.fetchrow(
            "UPDATE sessions SET id_token = $2, access_token = $3, access_expires_at = to_timestamp($4),"
            " refresh_token = coalesce($5, refresh_token) WHERE session_hash = $1 AND expires_at > now() RETURNING *",
            session.session_hash,
            tokens.id_token,
            tokens.access_token,
            tokens.access_expires_at,
            tokens.refresh_token,
        )
        return None if row is None else Session.of(row)

    async def close(self, session_hash: bytes) -> None:
        await self.pool.execute("DELETE FROM sessions WHERE session_hash = $1", session_hash)
