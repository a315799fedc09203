"""Per-agency credentials: one secret authenticates an agency over HTTP and on the ingress topic.

Over HTTP the agency sends `Authorization: Bearer <agency id>.<secret>`; intake keeps only a hash of the
token. On Kafka the agency signs each record: header `agency` with its id, and header `signature` with
the hex HMAC-SHA256 of `<ce_id>\\n<record value>` under the secret, which intake keeps encrypted under
its master key so that it can check signatures.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from backbone.db import Connection
from schemas.vocabulary import AgencyType
from services.intake.crypto import Vault


@dataclass(frozen=True)
class Agency:
    id: str
    type: AgencyType


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def issue(conn: Connection, vault: Vault, *, agency_id: str, agency_type: AgencyType) -> str:
    """A new token for the agency (replacing any earlier one). It is shown once and stored only hashed."""
    secret = secrets.token_urlsafe(32)
    token = f"{agency_id}.{secret}"
    await conn.execute(
        "INSERT INTO agency_credentials (agency_id, agency_type, token_hash, secret_ct) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (agency_id) DO UPDATE SET agency_type = EXCLUDED.agency_type, token_hash = EXCLUDED.token_hash,"
        " secret_ct = EXCLUDED.secret_ct, issued_at = now(), revoked_at = NULL",
        agency_id,
        agency_type,
        _hash(token),
        vault.seal_with_master(secret.encode(), f"credential:{agency_id}"),
    )
    return token


async def by_token(conn: Connection, token: str) -> Agency | None:
    row = await conn.fetchrow(
        "SELECT agency_id, agency_type FROM agency_credentials WHERE token_hash = $1 AND revoked_at IS NULL",
        _hash(token),
    )
    return Agency(row["agency_id"], AgencyType(row["agency_type"])) if row else None


def signature(secret: str, submission_id: str, value: bytes) -> str:
    """What an agency system puts in the `signature` header of an ingress record."""
    return hmac.new(secret.encode(), submission_id.encode() + b"\n" + value, hashlib.sha256).hexdigest()


async def by_signature(
    conn: Connection, vault: Vault, *, agency_id: str, submission_id: str, value: bytes, claimed: str
) -> Agency | None:
    row = await conn.fetchrow(
        "SELECT agency_type, secret_ct FROM agency_credentials WHERE agency_id = $1 AND revoked_at IS NULL",
        agency_id,
    )
    if row is None:
        return None
    secret = vault.open_with_master(row["secret_ct"], f"credential:{agency_id}").decode()
    if not hmac.compare_digest(signature(secret, submission_id, value), claimed):
        return None
    return Agency(agency_id, AgencyType(row["agency_type"]))
