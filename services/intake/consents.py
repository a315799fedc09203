"""Consent (本人同意): recorded, withdrawn, and asked whether it covers an agency for a purpose (the rule itself is
the kit's, backbone.consent, which meetings decides by too). The consents are kept and read through the store
(services/intake/store.py), in the caller's transaction."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from backbone.agencies import Agency
from backbone.involvement import Involvement
from schemas.events import ConsentPurpose, ConsentRecorded, ConsentScope, ConsentWithdrawn
from schemas.submission import ConsentGiven
from services.intake.store import PostgresStore


async def record(
    store: PostgresStore, *, person_id: UUID, case_id: UUID, given: ConsentGiven, agency: Agency
) -> ConsentRecorded:
    consent_id, event_id = uuid4(), uuid4()
    event = ConsentRecorded(
        case_id=case_id,
        consent_id=consent_id,
        person_id=person_id,
        scope=given.scope,
        purposes=given.purposes,
        method=given.method,
        obtained_by=agency.id,
        by_staff=agency.by_staff,
        given_at=given.given_at or datetime.now(UTC),
        valid_until=given.valid_until,
    )
    await store.keep_consent(event, event_id)
    await store.record(event, event_id=event_id)
    return event


async def withdraw(
    store: PostgresStore, involvement: Involvement, *, consent_id: UUID, agency: Agency
) -> ConsentWithdrawn | None:
    """Withdraw a consent in force; None when there is no such consent (or it was withdrawn already), or when
    the agency is not involved in the person's case (the person tells an agency that works with them)."""
    case_id = await store.case_of_consent_in_force(consent_id)
    if case_id is None or not await involvement.is_involved(store.conn, case_id, agency.id):
        return None
    withdrawn = await store.withdraw_consent(consent_id, by=agency.id)
    if withdrawn is None:
        return None
    event = ConsentWithdrawn(
        case_id=withdrawn.case_id,
        consent_id=consent_id,
        person_id=withdrawn.person_id,
        withdrawn_by=agency.id,
        by_staff=agency.by_staff,
        withdrawn_at=withdrawn.withdrawn_at,
    )
    await store.record(event)
    return event


async def basis(store: PostgresStore, *, person_id: UUID, agency: Agency, purpose: ConsentPurpose) -> UUID | None:
    """The consent in force that lets `agency` read the person's data for `purpose`, if there is one."""
    now = datetime.now(UTC)
    for consent_id, consent in await store.consents_of(person_id):
        if consent.allows(agency.id, agency.type, purpose, now):
            return consent_id
    return None


async def scope_in_force(store: PostgresStore, person_id: UUID) -> ConsentScope:
    """Everything the consents in force cover together (what ConsultationReceived tells the backbone)."""
    now = datetime.now(UTC)
    scopes = [consent.scope for _, consent in await store.consents_of(person_id) if consent.in_force(now)]
    return ConsentScope(
        all_programme_agencies=any(s.all_programme_agencies for s in scopes),
        agencies=tuple(sorted({a for s in scopes for a in s.agencies})),
        agency_types=tuple(sorted({t for s in scopes for t in s.agency_types})),
    )
