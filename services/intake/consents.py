"""Consent (本人同意): recorded, withdrawn, and asked whether it covers an agency for a purpose (the rule itself is
the kit's, backbone.consent, which meetings decides by too)."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

from backbone.agencies import Agency
from backbone.consent import Consent
from backbone.db import Connection
from backbone.involvement import Involvement
from backbone.outbox import Outbox
from schemas.events import ConsentPurpose, ConsentRecorded, ConsentScope, ConsentWithdrawn
from schemas.submission import ConsentGiven


async def record(
    conn: Connection, outbox: Outbox, *, person_id: UUID, case_id: UUID, given: ConsentGiven, agency: Agency
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
    await conn.execute(
        "INSERT INTO consents (consent_id, person_id, case_id, scope, purposes, method, obtained_by, given_at,"
        " valid_until, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        consent_id,
        person_id,
        case_id,
        event.scope.model_dump_json(),
        list(event.purposes),
        event.method,
        agency.id,
        event.given_at,
        event.valid_until,
        event_id,
    )
    await outbox.add(conn, event, event_id=event_id)
    return event


async def withdraw(
    conn: Connection, outbox: Outbox, involvement: Involvement, *, consent_id: UUID, agency: Agency
) -> ConsentWithdrawn | None:
    """Withdraw a consent in force; None when there is no such consent (or it was withdrawn already), or when
    the agency is not involved in the person's case (the person tells an agency that works with them)."""
    case_id = await conn.fetchval(
        "SELECT case_id FROM consents WHERE consent_id = $1 AND withdrawn_at IS NULL FOR UPDATE", consent_id
    )
    if case_id is None or not await involvement.is_involved(conn, case_id, agency.id):
        return None
    row = await conn.fetchrow(
        "UPDATE consents SET withdrawn_at = now(), withdrawn_by = $2 WHERE consent_id = $1 AND withdrawn_at IS NULL"
        " RETURNING person_id, case_id, withdrawn_at",
        consent_id,
        agency.id,
    )
    if row is None:
        return None
    event = ConsentWithdrawn(
        case_id=row["case_id"],
        consent_id=consent_id,
        person_id=row["person_id"],
        withdrawn_by=agency.id,
        by_staff=agency.by_staff,
        withdrawn_at=row["withdrawn_at"],
    )
    await outbox.add(conn, event)
    return event


async def basis(conn: Connection, *, person_id: UUID, agency: Agency, purpose: ConsentPurpose) -> UUID | None:
    """The consent in force that lets `agency` read the person's data for `purpose`, if there is one."""
    now = datetime.now(UTC)
    for consent_id, consent in await stored(conn, person_id):
        if consent.allows(agency.id, agency.type, purpose, now):
            return consent_id
    return None


async def scope_in_force(conn: Connection, person_id: UUID) -> ConsentScope:
    """Everything the consents in force cover together (what ConsultationReceived tells the backbone)."""
    now = datetime.now(UTC)
    scopes = [consent.scope for _, consent in await stored(conn, person_id) if consent.in_force(now)]
    return ConsentScope(
        all_programme_agencies=any(s.all_programme_agencies for s in scopes),
        agencies=tuple(sorted({a for s in scopes for a in s.agencies})),
        agency_types=tuple(sorted({t for s in scopes for t in s.agency_types})),
    )


async def stored(conn: Connection, person_id: UUID) -> list[tuple[UUID, Consent]]:
    """The person's consents, in force or not, oldest first, by id."""
    rows = await conn.fetch(
        "SELECT consent_id, scope, purposes, given_at, valid_until, withdrawn_at FROM consents"
        " WHERE person_id = $1 ORDER BY given_at",
        person_id,
    )
    return [
        (
            row["consent_id"],
            Consent(
                ConsentScope.model_validate_json(row["scope"]),
                frozenset(map(ConsentPurpose, row["purposes"])),
                row["given_at"],
                row["valid_until"],
                row["withdrawn_at"],
            ),
        )
        for row in rows
    ]
