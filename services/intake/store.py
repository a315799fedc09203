"""Where intake keeps its persons, cases, consultations, consents, households and refused submissions: every
statement of the service's SQL, in the caller's transaction on `conn`, recording events through the outbox
(backbone.outbox.TransactionStore). The handlers and the HTTP API load and save through it; the rules (who a
person is, which case a consultation joins, what consent allows, what is disclosed) and the encryption of
personal data stay in persons.py, households.py, consents.py, consultations.py and disclosure.py: only
ciphertexts and wrapped keys pass through here. tests/integration/test_intake_store.py holds it to its promises.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.consent import Consent
from backbone.outbox import TransactionStore
from backbone.outcomes import refusal
from schemas.events import ConsentPurpose, ConsentRecorded, ConsentScope, RejectionReason
from schemas.submission import ConsultationFacts


@dataclass(frozen=True)
class FoundPerson:
    """The person a subject reference names, with their wrapped data key; `new` when kept just now."""

    person_id: UUID
    wrapped_key: bytes
    new: bool


@dataclass(frozen=True)
class NewConsultation:
    """A consultation as it is kept: the facts, whose it is, and the summary already encrypted."""

    consultation_id: UUID
    case_id: UUID
    person_id: UUID
    receiving_agency: str
    facts: ConsultationFacts
    received_at: datetime
    summary_ct: bytes | None
    event_id: UUID
    trace_id: str | None
    idempotency_key: str | None
    request_hash: str
    """The keyed fingerprint of the submission, which tells a retry from a different submission under its key."""
    household_id: UUID | None


@dataclass(frozen=True)
class StoredConsultation:
    """A person's consultation as read back, its summary still encrypted (None when it had none)."""

    consultation_id: UUID
    case_id: UUID
    receiving_agency: str
    received_at: datetime
    summary_ct: bytes | None


@dataclass(frozen=True)
class EarlierSubmission:
    """What an earlier submission under the same idempotency key was answered, and its fingerprint."""

    consultation_id: UUID
    case_id: UUID
    person_id: UUID
    household_id: UUID | None
    event_id: UUID
    trace_id: str | None
    new_case: bool
    """Whether its consultation was the first of its case."""
    request_hash: str


@dataclass(frozen=True)
class AcceptedConsultation:
    """The consultation a submission created, and when it was stored."""

    case_id: UUID
    consultation_id: UUID
    person_id: UUID
    event_id: UUID
    accepted_at: datetime


@dataclass(frozen=True)
class WithdrawnConsent:
    """Whose consent was withdrawn, in which case, and when."""

    person_id: UUID
    case_id: UUID
    withdrawn_at: datetime


@dataclass(frozen=True)
class HouseholdCase:
    """One of a household's cases, open while `closed_at` is None."""

    case_id: UUID
    closed_at: datetime | None


class PostgresStore(TransactionStore):
    """The store in intake's database, within the caller's transaction on `conn`."""

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """A transaction (a savepoint inside one already open) whose changes are undone, and only they, when it
        raises."""
        async with self.conn.transaction():
            yield

    # --- persons and cases ---

    async def person_by_subject_ref(self, subject_ref: str, *, new_id: UUID, wrapped_key: bytes) -> FoundPerson:
        """The person with this subject reference, kept as a new one (`new_id`, `wrapped_key`) when there is none."""
        # Insert-or-find in one statement, so two agencies recording the same person at once meet.
        row = await self.conn.fetchrow(
            "INSERT INTO persons (person_id, subject_ref, wrapped_key) VALUES ($1, $2, $3)"
            " ON CONFLICT (subject_ref) DO UPDATE SET subject_ref = EXCLUDED.subject_ref"
            " RETURNING person_id, wrapped_key, (xmax = 0) AS inserted",
            new_id,
            subject_ref,
            wrapped_key,
        )
        assert row is not None
        return FoundPerson(row["person_id"], row["wrapped_key"], row["inserted"])

    async def add_person(self, person_id: UUID, wrapped_key: bytes) -> None:
        """Keep a new person that no subject reference finds (anonymous, or without a birth date)."""
        await self.conn.execute("INSERT INTO persons (person_id, wrapped_key) VALUES ($1, $2)", person_id, wrapped_key)

    async def keep_identity(self, person_id: UUID, identity_ct: bytes) -> None:
        """Keep the person's encrypted identity, replacing the one stored."""
        await self.conn.execute("UPDATE persons SET identity_ct = $2 WHERE person_id = $1", person_id, identity_ct)

    async def wrapped_key_of(self, person_id: UUID) -> bytes | None:
        """The person's wrapped data key; None when the person is unknown or erased."""
        wrapped: bytes | None = await self.conn.fetchval(
            "SELECT wrapped_key FROM persons WHERE person_id = $1", person_id
        )
        return wrapped

    async def identity_of(self, person_id: UUID) -> bytes | None:
        """The person's encrypted identity; None when none was recorded (or the person is unknown)."""
        identity_ct: bytes | None = await self.conn.fetchval(
            "SELECT identity_ct FROM persons WHERE person_id = $1", person_id
        )
        return identity_ct

    async def erase_person(self, person_id: UUID) -> bool:
        """Crypto-shredding: the data key and the subject reference go, so every ciphertext becomes noise and the
        person is never matched again; False when the person is unknown or erased already."""
        erased = await self.conn.fetchval(
            "UPDATE persons SET wrapped_key = NULL, subject_ref = NULL, erased_at = now()"
            " WHERE person_id = $1 AND erased_at IS NULL RETURNING true",
            person_id,
        )
        return bool(erased)

    async def add_case(self, case_id: UUID, person_id: UUID) -> None:
        """Open a new case for the person."""
        await self.conn.execute("INSERT INTO cases (case_id, person_id) VALUES ($1, $2)", case_id, person_id)

    async def open_case_of(self, person_id: UUID) -> UUID | None:
        """The person's latest open case: one opened for them, or a household's case a consultation of theirs
        joined."""
        case_id: UUID | None = await self.conn.fetchval(
            "SELECT case_id FROM cases WHERE closed_at IS NULL AND (person_id = $1"
            " OR case_id IN (SELECT case_id FROM consultations WHERE person_id = $1)) ORDER BY opened_at DESC LIMIT 1",
            person_id,
        )
        return case_id

    # --- consultations ---

    async def hold_idempotency_key(self, agency_id: str, idempotency_key: str) -> None:
        """Hold the agency's key until the transaction ends, so that of concurrent retries exactly one writes."""
        await self.conn.execute("SELECT pg_advisory_xact_lock(hashtext($1))", f"{agency_id}\n{idempotency_key}")

    async def earlier_submission(self, agency_id: str, idempotency_key: str) -> EarlierSubmission | None:
        """What the agency's earlier submission under this key was answered, with its fingerprint; None if none."""
        row = await self.conn.fetchrow(
            "SELECT c.consultation_id, c.case_id, c.person_id, c.household_id, c.event_id, c.trace_id, c.request_hash,"
            " NOT EXISTS (SELECT 1 FROM consultations o WHERE o.case_id = c.case_id AND o.received_at < c.received_at)"
            " AS new_case FROM consultations c WHERE c.receiving_agency = $1 AND c.idempotency_key = $2",
            agency_id,
            idempotency_key,
        )
        return None if row is None else EarlierSubmission(**dict(row))

    async def consultation_by_key(self, agency_id: str, idempotency_key: str) -> AcceptedConsultation | None:
        """The consultation the agency's submission under this key created, and when; None if none."""
        row = await self.conn.fetchrow(
            "SELECT case_id, consultation_id, person_id, event_id, created_at AS accepted_at FROM consultations"
            " WHERE receiving_agency = $1 AND idempotency_key = $2",
            agency_id,
            idempotency_key,
        )
        return None if row is None else AcceptedConsultation(**dict(row))

    async def keep_consultation(self, consultation: NewConsultation) -> None:
        """Keep the consultation; a second one under the same agency's idempotency key is refused (unique)."""
        c, facts = consultation, consultation.facts
        await self.conn.execute(
            "INSERT INTO consultations (consultation_id, case_id, person_id, receiving_agency, staff_id, channel,"
            " district, domains, urgency, received_at, summary_ct, event_id, trace_id, idempotency_key, request_hash,"
            " consulted_by, household_id)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            c.consultation_id,
            c.case_id,
            c.person_id,
            c.receiving_agency,
            facts.staff_id,
            facts.channel,
            facts.district,
            list(facts.domains),
            facts.urgency,
            c.received_at,
            c.summary_ct,
            c.event_id,
            c.trace_id,
            c.idempotency_key,
            c.request_hash,
            facts.consulted_by,
            c.household_id,
        )

    async def consultations_of(self, person_id: UUID) -> list[StoredConsultation]:
        """The person's consultations, oldest first, their summaries encrypted."""
        rows = await self.conn.fetch(
            "SELECT consultation_id, case_id, receiving_agency, received_at, summary_ct FROM consultations"
            " WHERE person_id = $1 ORDER BY received_at",
            person_id,
        )
        return [StoredConsultation(**dict(row)) for row in rows]

    async def person_of_consultation(self, consultation_id: UUID) -> UUID | None:
        """Whose consultation it is; None when there is no such consultation."""
        person_id: UUID | None = await self.conn.fetchval(
            "SELECT person_id FROM consultations WHERE consultation_id = $1", consultation_id
        )
        return person_id

    async def latest_case_received_by(self, person_id: UUID, agency_id: str) -> UUID | None:
        """The case of the latest consultation the agency took in from the person; None if it took in none, or the
        person is erased."""
        case_id: UUID | None = await self.conn.fetchval(
            "SELECT c.case_id FROM consultations c JOIN persons p USING (person_id)"
            " WHERE c.person_id = $1 AND c.receiving_agency = $2 AND p.erased_at IS NULL"
            " ORDER BY c.received_at DESC LIMIT 1",
            person_id,
            agency_id,
        )
        return case_id

    # --- consents ---

    async def keep_consent(self, recorded: ConsentRecorded, event_id: UUID) -> None:
        """Keep the consent as recorded, with the id of the event that tells the backbone."""
        await self.conn.execute(
            "INSERT INTO consents (consent_id, person_id, case_id, scope, purposes, method, obtained_by, given_at,"
            " valid_until, event_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            recorded.consent_id,
            recorded.person_id,
            recorded.case_id,
            recorded.scope.model_dump_json(),
            list(recorded.purposes),
            recorded.method,
            recorded.obtained_by,
            recorded.given_at,
            recorded.valid_until,
            event_id,
        )

    async def consents_of(self, person_id: UUID) -> list[tuple[UUID, Consent]]:
        """The person's consents by id, in force or not, oldest first."""
        rows = await self.conn.fetch(
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

    async def case_of_consent_in_force(self, consent_id: UUID) -> UUID | None:
        """The case of the consent when it is not withdrawn, locked until the transaction ends; None otherwise."""
        case_id: UUID | None = await self.conn.fetchval(
            "SELECT case_id FROM consents WHERE consent_id = $1 AND withdrawn_at IS NULL FOR UPDATE", consent_id
        )
        return case_id

    async def withdraw_consent(self, consent_id: UUID, *, by: str) -> WithdrawnConsent | None:
        """Withdraw the consent now, by the agency `by`; None when there is none not withdrawn already."""
        row = await self.conn.fetchrow(
            "UPDATE consents SET withdrawn_at = now(), withdrawn_by = $2 WHERE consent_id = $1 AND withdrawn_at IS NULL"
            " RETURNING person_id, case_id, withdrawn_at",
            consent_id,
            by,
        )
        return None if row is None else WithdrawnConsent(**dict(row))

    # --- households (世帯) ---

    async def add_household(self, household_id: UUID, created_by: str) -> None:
        """Keep a new household, started by the agency's consultation."""
        await self.conn.execute(
            "INSERT INTO households (household_id, created_by) VALUES ($1, $2)", household_id, created_by
        )

    async def cases_of_household(self, household_id: UUID) -> list[HouseholdCase]:
        """The household's cases, latest opened first (none for an unknown household)."""
        rows = await self.conn.fetch(
            "SELECT case_id, closed_at FROM cases WHERE household_id = $1 ORDER BY opened_at DESC", household_id
        )
        return [HouseholdCase(row["case_id"], row["closed_at"]) for row in rows]

    async def join_household(self, household_id: UUID, person_id: UUID, relation: str | None) -> None:
        """The person is a member of the household; their 続柄 is the latest one given (kept when none is)."""
        await self.conn.execute(
            "INSERT INTO household_members (household_id, person_id, relation) VALUES ($1, $2, $3)"
            " ON CONFLICT (household_id, person_id) DO UPDATE"
            " SET relation = COALESCE(EXCLUDED.relation, household_members.relation)",
            household_id,
            person_id,
            relation,
        )

    async def case_to_household(self, case_id: UUID, household_id: UUID) -> None:
        """The case becomes the household's, unless it belongs to a household already."""
        await self.conn.execute(
            "UPDATE cases SET household_id = $2 WHERE case_id = $1 AND household_id IS NULL", case_id, household_id
        )

    # --- refused ingress submissions ---

    async def keep_rejected_submission(
        self, agency_id: str, submission_id: str, reasons: tuple[RejectionReason, ...]
    ) -> None:
        """Keep the refusal of the agency's record `submission_id` (its ce_id), with the reasons; once per record."""
        await self.conn.execute(
            "INSERT INTO rejected_submissions (agency_id, submission_id, reasons) VALUES ($1, $2, $3)",
            agency_id,
            submission_id,
            json.dumps([reason.model_dump() for reason in reasons]),
        )

    async def rejected_submission(self, agency_id: str, submission_id: str) -> dict[str, Any] | None:
        """The refusal of the agency's record `submission_id`: its `reasons` and `rejected_at`; None if not refused."""
        return await refusal(
            self.conn,
            "SELECT reasons, rejected_at FROM rejected_submissions WHERE agency_id = $1 AND submission_id = $2",
            agency=agency_id,
            record_id=submission_id,
        )
