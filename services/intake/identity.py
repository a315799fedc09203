"""Recognising the same person at two agencies without revealing who they are.

POLICY (subject reference): two consultations are about the same person when the NFKC-normalised full
name (family name then given name, all white space removed, case-folded) and the birth date are equal.
The reference is an HMAC-SHA256 of those with intake's subject key, so it can travel on the bus. With
no birth date there is no reference: a name alone is too common to join cases on. Kana readings are
not part of the key, because agencies do not record them consistently.
"""

from __future__ import annotations

import unicodedata

from schemas.submission import PersonIdentity
from services.intake.crypto import keyed_hash

REFERENCE_VERSION = "v1"


def normalise_name(text: str) -> str:
    """NFKC (full-width letters and digits, half-width kana, the ideographic space) without white space."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def subject_ref(key: bytes, person: PersonIdentity | None) -> str | None:
    if person is None or person.birth_date is None:
        return None
    name = normalise_name(person.family_name + (person.given_name or ""))
    return keyed_hash(key, f"{REFERENCE_VERSION}|{name}|{person.birth_date.isoformat()}")
