"""Persons: identity encrypted under a per-person data key; the same person recognised by subject reference.

POLICY (joining cases): a consultation whose subject reference matches a known person is about that
person; it joins the person's open case (the latest one not closed), else the open case of the household
it names (`services/intake/households.py`), or opens a new case when there is none. The stored identity
is the most recent one recorded. Anonymous consultations, and identities without a birth date, always make
a new person. An erased person (crypto-shredded: `PostgresStore.erase_person`) is never matched again.

Encryption happens here and nowhere else: the store (services/intake/store.py) keeps and returns only wrapped
keys and ciphertexts.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from schemas.submission import PersonIdentity
from services.intake.crypto import UndecryptableError, Vault, decrypt, encrypt
from services.intake.identity import subject_ref
from services.intake.store import PostgresStore


@dataclass(frozen=True)
class Person:
    person_id: UUID
    case_id: UUID
    new_case: bool
    subject_ref: str | None
    data_key: bytes


async def resolve(
    store: PostgresStore,
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
        found = await store.person_by_subject_ref(ref, new_id=person_id, wrapped_key=wrapped)
        person_id, new_person = found.person_id, found.new
        data_key = vault.unwrap(found.wrapped_key) if not new_person else data_key
    else:
        await store.add_person(person_id, wrapped)
    if identity is not None:
        await store.keep_identity(
            person_id, encrypt(data_key, identity.model_dump_json().encode(), f"person:{person_id}:identity")
        )
    case_id = (None if new_person else await store.open_case_of(person_id)) or household_case
    new_case = case_id is None
    if case_id is None:
        case_id = uuid4()
        await store.add_case(case_id, person_id)
    return Person(person_id, case_id, new_case, ref, data_key)


async def data_key(store: PostgresStore, vault: Vault, person_id: UUID) -> bytes | None:
    """The person's data key; None when the person is unknown or erased."""
    wrapped = await store.wrapped_key_of(person_id)
    return vault.unwrap(wrapped) if wrapped is not None else None


async def read(store: PostgresStore, vault: Vault, person_id: UUID) -> dict[str, Any] | None:
    """Identity and consultation summaries, decrypted; None when unknown or erased."""
    key = await data_key(store, vault, person_id)
    if key is None:
        return None
    identity_ct = await store.identity_of(person_id)
    stored = await store.consultations_of(person_id)
    try:
        identity = (
            json.loads(decrypt(key, identity_ct, f"person:{person_id}:identity")) if identity_ct is not None else None
        )
        consultations = [
            {
                "consultation_id": c.consultation_id,
                "case_id": c.case_id,
                "receiving_agency": c.receiving_agency,
                "received_at": c.received_at,
                "summary": _summary(key, c.consultation_id, c.summary_ct),
            }
            for c in stored
        ]
    except UndecryptableError:
        return None
    return {"person_id": person_id, "identity": identity, "consultations": consultations}


def encrypt_summary(key: bytes, consultation_id: UUID, summary: str) -> bytes:
    return encrypt(key, summary.encode(), f"consultation:{consultation_id}:summary")


def _summary(key: bytes, consultation_id: UUID, ciphertext: bytes | None) -> str:
    return decrypt(key, ciphertext, f"consultation:{consultation_id}:summary").decode() if ciphertext else ""
