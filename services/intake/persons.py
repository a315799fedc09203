"""Persons: identity encrypted under a per-person data key; the same person recognised by subject reference.

POLICY (joining cases): a consultation whose subject reference matches a known person is about that
person; it joins the person's open case (the latest one not closed), else the open case of the household
it names (`services/intake/households.py`), or opens a new case when there is none. The stored identity
is the most recent one recorded. Anonymous consultations, and identities without a birth date, always make
a new person. An erased person is never matched again.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from backbone.db import Connection
from schemas.submission import PersonIdentity
from services.intake.crypto import UndecryptableError, Vault, decrypt, encrypt
from services.intake.identity import subject_ref


@dataclass(frozen=True)
class Person:
    person_id: UUID
    case_id: UUID
    new_case: bool
    subject_ref: str | None
    data_key: bytes


async def resolve(
    conn: Connection,
    vault: Vault,
    subject_key: bytes,
    identity: PersonIdentity | None,
    *,
    household_case: UUID | None = None,
) -> Person:
    """The person a consultation is about, with the case it belongs to: the person's open case, else the
    household's open case (`household_case`), else a new one (call inside a transaction)."""
    ref = subject_ref(subject_key, identity)
    person_id, new_person = uuid4(), True
    data_key, wrapped = vault.new_data_key()
    if ref is not None:
        # Insert-or-find in one statement, so two agencies recording the same person at once meet.
        row = await conn.fetchrow(
            "INSERT INTO persons (person_id, subject_ref, wrapped_key) VALUES ($1, $2, $3)"
            " ON CONFLICT (subject_ref) DO UPDATE SET subject_ref = EXCLUDED.subject_ref"
            " RETURNING person_id, wrapped_key, (xmax = 0) AS inserted",
            person_id,
            ref,
            wrapped,
        )
        assert row is not None
        person_id, new_person = row["person_id"], row["inserted"]
        data_key = vault.unwrap(row["wrapped_key"]) if not new_person else data_key
    else:
        await conn.execute("INSERT INTO persons (person_id, wrapped_key) VALUES ($1, $2)", person_id, wrapped)
    if identity is not None:
        await conn.execute(
            "UPDATE persons SET identity_ct = $2 WHERE person_id = $1",
            person_id,
            encrypt(data_key, identity.model_dump_json().encode(), f"person:{person_id}:identity"),
        )
    case_id = (None if new_person else await open_case(conn, person_id)) or household_case
    new_case = case_id is None
    if case_id is None:
        case_id = uuid4()
        await conn.execute("INSERT INTO cases (case_id, person_id) VALUES ($1, $2)", case_id, person_id)
    return Person(person_id, case_id, new_case, ref, data_key)


async def open_case(conn: Connection, person_id: UUID) -> UUID | None:
    """The person's latest open case: one opened for them, or a household's case a consultation of theirs joined."""
    case_id: UUID | None = await conn.fetchval(
        "SELECT case_id FROM cases WHERE closed_at IS NULL AND (person_id = $1"
        " OR case_id IN (SELECT case_id FROM consultations WHERE person_id = $1)) ORDER BY opened_at DESC LIMIT 1",
        person_id,
    )
    return case_id


async def data_key(conn: Connection, vault: Vault, person_id: UUID) -> bytes | None:
    """The person's data key; None when the person is unknown or erased."""
    wrapped: bytes | None = await conn.fetchval("SELECT wrapped_key FROM persons WHERE person_id = $1", person_id)
    return vault.unwrap(wrapped) if wrapped is not None else None


async def read(conn: Connection, vault: Vault, person_id: UUID) -> dict[str, Any] | None:
    """Identity and consultation summaries, decrypted; None when unknown or erased."""
    key = await data_key(conn, vault, person_id)
    if key is None:
        return None
    identity_ct = await conn.fetchval("SELECT identity_ct FROM persons WHERE person_id = $1", person_id)
    rows = await conn.fetch(
        "SELECT consultation_id, case_id, receiving_agency, received_at, summary_ct FROM consultations"
        " WHERE person_id = $1 ORDER BY received_at",
        person_id,
    )
    try:
        identity = (
            json.loads(decrypt(key, identity_ct, f"person:{person_id}:identity")) if identity_ct is not None else None
        )
        consultations = [
            {
                "consultation_id": row["consultation_id"],
                "case_id": row["case_id"],
                "receiving_agency": row["receiving_agency"],
                "received_at": row["received_at"],
                "summary": _summary(key, row["consultation_id"], row["summary_ct"]),
            }
            for row in rows
        ]
    except UndecryptableError:
        return None
    return {"person_id": person_id, "identity": identity, "consultations": consultations}


def encrypt_summary(key: bytes, consultation_id: UUID, summary: str) -> bytes:
    return encrypt(key, summary.encode(), f"consultation:{consultation_id}:summary")


def _summary(key: bytes, consultation_id: UUID, ciphertext: bytes | None) -> str:
    return decrypt(key, ciphertext, f"consultation:{consultation_id}:summary").decode() if ciphertext else ""


async def erase(conn: Connection, person_id: UUID) -> bool:
    """Crypto-shredding: the data key and the subject reference go; every ciphertext becomes noise."""
    erased = await conn.fetchval(
        "UPDATE persons SET wrapped_key = NULL, subject_ref = NULL, erased_at = now()"
        " WHERE person_id = $1 AND erased_at IS NULL RETURNING true",
        person_id,
    )
    return bool(erased)
