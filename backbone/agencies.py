"""Agencies as callers: one token per agency authenticates it over HTTP and signs its ingress records.

The token is `<agency id>.<secret>`. Every service that agencies call keeps a row per agency: a hash of
the token (for `Authorization: Bearer …`) and the secret encrypted under the service's credentials key
(to check the `signature` header of ingress records: hex HMAC-SHA256 of `<ce_id>\\n<value>`). The same
token is registered in each such service by `backbone agency-token`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
from dataclasses import dataclass

from aiokafka.structs import ConsumerRecord
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from backbone.db import Connection
from backbone.kafka import decode_headers
from backbone.records import PoisonReason, PoisonRecordError
from backbone.staff import StaffMember
from schemas.vocabulary import AgencyType

RECORD_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:-]{0,127}")
"""What an ingress record's `ce_id` may be: it is published back (an outcome, a rejection), so it is an id."""


@dataclass(frozen=True)
class Agency:
    """Who calls: an agency, by its system's token, or a staff member of it, signed in (`staff`)."""

    id: str
    type: AgencyType
    staff: StaffMember | None = None

    @property
    def by_staff(self) -> str | None:
        """The signed-in staff member's subject id, for the events' `by_staff`; None for the agency's system."""
        return self.staff.subject if self.staff else None


def new_token(agency_id: str) -> str:
    return f"{agency_id}.{secrets.token_urlsafe(32)}"


def signature(secret: str, record_id: str, value: bytes) -> str:
    """What an agency system puts in the `signature` header of an ingress record."""
    return hmac.new(secret.encode(), record_id.encode() + b"\n" + value, hashlib.sha256).hexdigest()


class Credentials:
    """Registers and checks agency tokens in one service's database."""

    def __init__(self, key_base64: str) -> None:
        key = base64.b64decode(key_base64)
        if len(key) != 32:
            raise ValueError("the credentials key must be base64 of 32 bytes")
        self._aead = AESGCM(key)

    async def register(self, conn: Connection, token: str, agency_type: AgencyType) -> Agency:
        """Store the agency's token (replacing an earlier one)."""
        agency_id, secret = token.split(".", 1)
        nonce = os.urandom(12)
        sealed = nonce + self._aead.encrypt(nonce, secret.encode(), agency_id.encode())
        await conn.execute(
            "INSERT INTO agency_credentials (agency_id, agency_type, token_hash, secret_ct) VALUES ($1, $2, $3, $4)"
            " ON CONFLICT (agency_id) DO UPDATE SET agency_type = EXCLUDED.agency_type,"
            " token_hash = EXCLUDED.token_hash, secret_ct = EXCLUDED.secret_ct, issued_at = now(), revoked_at = NULL",
            agency_id,
            agency_type,
            _hash(token),
            sealed,
        )
        return Agency(agency_id, agency_type)

    async def by_token(self, conn: Connection, token: str) -> Agency | None:
        row = await conn.fetchrow(
            "SELECT agency_id, agency_type FROM agency_credentials WHERE token_hash = $1 AND revoked_at IS NULL",
            _hash(token),
        )
        return Agency(row["agency_id"], AgencyType(row["agency_type"])) if row else None

    async def signed_sender(self, conn: Connection, record: ConsumerRecord[bytes, bytes]) -> tuple[Agency, str]:
        """The agency that signed an ingress record, and the record's `ce_id`; PoisonRecordError otherwise."""
        try:
            headers = decode_headers(record.headers)
        except UnicodeDecodeError:
            raise PoisonRecordError(PoisonReason.HEADER_NOT_UTF8, "a header value is not UTF-8") from None
        agency_id, claimed, record_id = headers.get("agency"), headers.get("signature"), headers.get("ce_id")
        if not (agency_id and claimed and record_id):
            raise PoisonRecordError(
                PoisonReason.UNAUTHENTICATED, "the agency, signature and ce_id headers are required"
            )
        row = await conn.fetchrow(
            "SELECT agency_type, secret_ct FROM agency_credentials WHERE agency_id = $1 AND revoked_at IS NULL",
            agency_id,
        )
        if row is None or not hmac.compare_digest(
            signature(self._secret(agency_id, row["secret_ct"]), record_id, record.value or b""), claimed
        ):
            raise PoisonRecordError(PoisonReason.UNAUTHENTICATED, f"the signature does not verify for {agency_id!r}")
        if not RECORD_ID.fullmatch(record_id):
            # The ce_id is repeated in the outcome and in a rejection on the bus: an id, never words.
            raise PoisonRecordError(
                PoisonReason.NOT_A_CLOUDEVENT, "ce_id must be an id: 1-128 of A-Z a-z 0-9 . _ : - (a UUID is best)"
            )
        return Agency(agency_id, AgencyType(row["agency_type"])), record_id

    def _secret(self, agency_id: str, sealed: bytes) -> str:
        try:
            return self._aead.decrypt(sealed[:12], sealed[12:], agency_id.encode()).decode()
        except InvalidTag:
            return ""  # registered under another key: never verifies


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
