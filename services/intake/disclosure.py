"""Disclosure (個人情報の開示): an agency reads a person's data only when consent covers it and it is
involved in the person's case (need to know, `backbone/involvement.py`).

Both must hold: consent says *who may* be told, involvement says *who needs* to be. An agency covered by
consent to "every programme agency" still reads nothing of a case it has no part in, and what it reads
is limited to the consultations of the cases it is involved in.

Every request, allowed or denied, becomes a PersonalDataDisclosed event in the same transaction as the
decision. A refusal reveals nothing: unknown, erased, not-covered and not-involved are refused alike.
ASSUMPTION until the meetings service publishes 支援会議 membership: consent is the only basis.
The consents and the person's data are read through the store (services/intake/store.py), and decrypted here.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from backbone.agencies import Agency
from backbone.involvement import Involvement
from schemas.events import ConsentPurpose, PersonalDataDisclosed
from services.intake import consents, persons
from services.intake.crypto import Vault
from services.intake.store import PostgresStore


async def disclose(
    store: PostgresStore,
    vault: Vault,
    involvement: Involvement,
    *,
    person_id: UUID,
    agency: Agency,
    purpose: ConsentPurpose,
    consultation_id: UUID | None = None,
) -> dict[str, Any] | None:
    """The person's data when the agency may read it for `purpose` (only the consultations of the cases it is
    involved in; only `consultation_id`'s when given); None, and a denial on record, otherwise."""
    async with store.transaction():
        consent_id = await consents.basis(store, person_id=person_id, agency=agency, purpose=purpose)
        data = await persons.read(store, vault, person_id) if consent_id else None
        if data is not None:
            cases = await involvement.cases_of(store.conn, agency.id, (c["case_id"] for c in data["consultations"]))
            data["consultations"] = [
                c
                for c in data["consultations"]
                if c["case_id"] in cases and consultation_id in (None, c["consultation_id"])
            ]
            if not data["consultations"]:
                data = None
        allowed = data is not None
        await store.record(
            PersonalDataDisclosed(
                disclosure_id=uuid4(),
                person_id=person_id,
                case_id=data["consultations"][-1]["case_id"] if data is not None else None,
                requesting_agency=agency.id,
                outcome="allowed" if allowed else "denied",
                basis="consent" if allowed else "none",
                consent_id=consent_id if allowed else None,
                decided_at=datetime.now(UTC),
            ),
        )
    return data
