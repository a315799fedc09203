"""Disclosure (個人情報の開示): an agency reads a person's data only when consent covers it.

Every request, allowed or denied, becomes a PersonalDataDisclosed event in the same transaction as the
decision. A refusal reveals nothing: unknown, erased and not-covered persons are refused alike.
ASSUMPTION until the meetings service publishes 支援会議 membership: consent is the only basis.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

from backbone.agencies import Agency
from backbone.db import Connection
from schemas.events import ConsentPurpose, PersonalDataDisclosed
from services.intake import consents, persons
from services.intake.context import Intake


async def disclose(
    conn: Connection, intake: Intake, *, person_id: UUID, agency: Agency, purpose: ConsentPurpose
) -> dict[str, Any] | None:
    """The person's data when the agency may read it for `purpose`; None (and a denial on record) otherwise."""
    async with conn.transaction():
        consent_id = await consents.basis(conn, person_id=person_id, agency=agency, purpose=purpose)
        data = await persons.read(conn, intake.vault, person_id) if consent_id else None
        allowed = data is not None
        await intake.outbox.add(
            conn,
            PersonalDataDisclosed(
                disclosure_id=uuid4(),
                person_id=person_id,
                case_id=await persons.latest_case(conn, person_id) if allowed else None,
                requesting_agency=agency.id,
                outcome="allowed" if allowed else "denied",
                basis="consent" if allowed else "none",
                consent_id=consent_id if allowed else None,
                decided_at=datetime.now(UTC),
            ),
        )
    return data
