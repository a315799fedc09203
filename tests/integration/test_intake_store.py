"""The contract of intake's store (services/intake/store.py), held against the real PostgreSQL. intake's tables share
names with referral's and meetings' (cases, consents), so they live in a schema of their own in the tests database;
each test runs in a transaction that is rolled back."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from backbone.consent import Consent
from backbone.settings import DatabaseSettings
from schemas.events import ConsentMethod, ConsentPurpose, ConsentRecorded, ConsentScope, RejectionReason
from schemas.submission import ConsultationFacts
from schemas.vocabulary import Channel, District, SupportDomain
from services.intake.store import NewConsultation, PostgresStore
from tests.integration.stores import real_store, schema_pool

NOW = datetime(2031, 6, 2, 1, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
async def intake_pool(tests_database: DatabaseSettings) -> AsyncIterator[asyncpg.Pool]:
    pool = await schema_pool(tests_database.dsn.get_secret_value(), "intake")
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
async def store(intake_pool: asyncpg.Pool) -> AsyncIterator[PostgresStore]:
    async for each in real_store(intake_pool, PostgresStore, service="intake"):
        yield each


def agency() -> str:
    return f"test-agency-{uuid.uuid4().hex[:8]}"


async def person(store: PostgresStore) -> uuid.UUID:
    """A new anonymous person with an open case of their own."""
    person_id = uuid.uuid4()
    await store.add_person(person_id, b"wrapped")
    await store.add_case(uuid.uuid4(), person_id)
    return person_id


def consultation(
    person_id: uuid.UUID,
    case_id: uuid.UUID,
    agency_id: str,
    *,
    key: str | None = None,
    received_at: datetime = NOW,
    summary_ct: bytes | None = b"ciphertext",
) -> NewConsultation:
    facts = ConsultationFacts(
        receiving_agency=agency_id,
        staff_id="staff-1",
        channel=Channel.COUNTER,
        district=District.KATASE,
        domains=(SupportDomain.ELDERLY,),
    )
    return NewConsultation(
        consultation_id=uuid.uuid4(),
        case_id=case_id,
        person_id=person_id,
        receiving_agency=agency_id,
        facts=facts,
        received_at=received_at,
        summary_ct=summary_ct,
        event_id=uuid.uuid4(),
        trace_id=None,
        idempotency_key=key,
        request_hash="fingerprint",
        household_id=None,
    )


def consent(person_id: uuid.UUID, case_id: uuid.UUID, *, given_at: datetime = NOW) -> ConsentRecorded:
    return ConsentRecorded(
        case_id=case_id, consent_id=uuid.uuid4(), person_id=person_id, scope=ConsentScope(agencies=("ikiiki-zengyo",)),
        purposes=(ConsentPurpose.SUPPORT, ConsentPurpose.REFERRAL), method=ConsentMethod.WRITTEN,
        obtained_by="chiku-fukushi-zengyo", given_at=given_at, valid_until=given_at + 24 * HOUR,
    )  # fmt: skip


async def test_a_subject_reference_finds_the_person_it_kept_first(store: PostgresStore) -> None:
    ref, first, second = uuid.uuid4().hex, uuid.uuid4(), uuid.uuid4()
    kept = await store.person_by_subject_ref(ref, new_id=first, wrapped_key=b"first key")
    again = await store.person_by_subject_ref(ref, new_id=second, wrapped_key=b"second key")
    assert (kept.person_id, kept.wrapped_key, kept.new) == (first, b"first key", True)
    assert (again.person_id, again.wrapped_key, again.new) == (first, b"first key", False)
    assert await store.wrapped_key_of(second) is None


async def test_identity_reads_back_and_erasure_leaves_only_noise(store: PostgresStore) -> None:
    ref, person_id = uuid.uuid4().hex, uuid.uuid4()
    await store.person_by_subject_ref(ref, new_id=person_id, wrapped_key=b"key")
    assert await store.identity_of(person_id) is None
    await store.keep_identity(person_id, b"identity one")
    await store.keep_identity(person_id, b"identity two")  # the most recent one is kept
    assert (await store.wrapped_key_of(person_id), await store.identity_of(person_id)) == (b"key", b"identity two")

    assert await store.erase_person(person_id)
    assert not await store.erase_person(person_id)  # once is enough
    assert not await store.erase_person(uuid.uuid4())
    assert await store.wrapped_key_of(person_id) is None
    assert await store.identity_of(person_id) == b"identity two"  # the ciphertext stays, unreadable
    newcomer = await store.person_by_subject_ref(ref, new_id=uuid.uuid4(), wrapped_key=b"new key")
    assert newcomer.new and newcomer.person_id != person_id  # an erased person is never matched again


async def test_a_persons_open_case_is_theirs_or_one_a_consultation_of_theirs_joined(store: PostgresStore) -> None:
    alone, member, a = uuid.uuid4(), uuid.uuid4(), agency()
    await store.add_person(alone, b"k")
    assert await store.open_case_of(alone) is None
    case_id = uuid.uuid4()
    await store.add_case(case_id, alone)
    assert await store.open_case_of(alone) == case_id
    await store.add_person(member, b"k")
    await store.keep_consultation(consultation(member, case_id, a))  # joins the case without one of its own
    assert await store.open_case_of(member) == case_id
    await store.conn.execute("UPDATE cases SET closed_at = now() WHERE case_id = $1", case_id)
    assert await store.open_case_of(alone) is None and await store.open_case_of(member) is None


async def test_consultations_read_back_oldest_first_with_their_ciphertexts(store: PostgresStore) -> None:
    person_id, a, b = await person(store), agency(), agency()
    case_id = await store.open_case_of(person_id)
    assert case_id is not None
    later = consultation(person_id, case_id, b, received_at=NOW + HOUR, summary_ct=None)
    first = consultation(person_id, case_id, a)
    for each in (later, first):
        await store.keep_consultation(each)
    stored = await store.consultations_of(person_id)
    assert [(c.consultation_id, c.receiving_agency, c.received_at, c.summary_ct) for c in stored] == [
        (first.consultation_id, a, NOW, b"ciphertext"),
        (later.consultation_id, b, NOW + HOUR, None),
    ]
    assert {c.case_id for c in stored} == {case_id}
    assert await store.person_of_consultation(first.consultation_id) == person_id
    assert await store.person_of_consultation(uuid.uuid4()) is None
    assert await store.consultations_of(uuid.uuid4()) == []


async def test_the_case_an_agency_took_in_from_a_person_until_they_are_erased(store: PostgresStore) -> None:
    person_id, a = await person(store), agency()
    older, newer = uuid.uuid4(), uuid.uuid4()
    for case_id, at in ((older, NOW - HOUR), (newer, NOW)):
        await store.keep_consultation(consultation(person_id, case_id, a, received_at=at))
    assert await store.latest_case_received_by(person_id, a) == newer
    assert await store.latest_case_received_by(person_id, agency()) is None
    await store.erase_person(person_id)
    assert await store.latest_case_received_by(person_id, a) is None


async def test_a_submission_under_a_key_is_found_again_and_kept_once(store: PostgresStore) -> None:
    person_id, a, key = await person(store), agency(), f"key-{uuid.uuid4()}"
    case_id = await store.open_case_of(person_id)
    assert case_id is not None
    await store.hold_idempotency_key(a, key)  # held until the transaction ends
    assert await store.earlier_submission(a, key) is None and await store.consultation_by_key(a, key) is None
    opening = consultation(person_id, case_id, a, received_at=NOW - HOUR)
    keyed = consultation(person_id, case_id, a, key=key)
    for each in (opening, keyed):
        await store.keep_consultation(each)

    earlier = await store.earlier_submission(a, key)
    assert earlier is not None
    assert (earlier.consultation_id, earlier.case_id, earlier.person_id, earlier.event_id) == (
        keyed.consultation_id,
        case_id,
        person_id,
        keyed.event_id,
    )
    assert (earlier.request_hash, earlier.new_case, earlier.household_id, earlier.trace_id) == (
        "fingerprint",
        False,  # the case had a consultation before it
        None,
        None,
    )
    accepted = await store.consultation_by_key(a, key)
    assert accepted is not None and (accepted.consultation_id, accepted.event_id) == (
        keyed.consultation_id,
        keyed.event_id,
    )
    assert isinstance(accepted.accepted_at, datetime)
    assert await store.earlier_submission(agency(), key) is None  # keys are each agency's own

    with pytest.raises(asyncpg.UniqueViolationError):  # a second consultation under the key is never kept
        async with store.transaction():
            await store.keep_consultation(consultation(person_id, case_id, a, key=key))
    assert len(await store.consultations_of(person_id)) == 2


async def test_the_first_consultation_of_a_case_opened_it(store: PostgresStore) -> None:
    person_id, a, key = await person(store), agency(), f"key-{uuid.uuid4()}"
    case_id = await store.open_case_of(person_id)
    assert case_id is not None
    await store.keep_consultation(consultation(person_id, case_id, a, key=key))
    earlier = await store.earlier_submission(a, key)
    assert earlier is not None and earlier.new_case


async def test_a_held_key_makes_a_concurrent_retry_wait(store: PostgresStore, intake_pool: asyncpg.Pool) -> None:
    a, key = agency(), f"key-{uuid.uuid4()}"
    await store.hold_idempotency_key(a, key)
    async with intake_pool.acquire() as other:
        assert not await other.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))", f"{a}\n{key}")
        assert await other.fetchval("SELECT pg_try_advisory_xact_lock(hashtext($1))", f"{a}\nother-key")


async def test_consents_read_back_oldest_first_until_withdrawn(store: PostgresStore) -> None:
    person_id, withdrawer = await person(store), agency()
    case_id = await store.open_case_of(person_id)
    assert case_id is not None
    later, first = consent(person_id, case_id, given_at=NOW), consent(person_id, case_id, given_at=NOW - HOUR)
    for each in (later, first):
        await store.keep_consent(each, uuid.uuid4())
    assert await store.consents_of(person_id) == [
        (
            first.consent_id,
            Consent(first.scope, frozenset(first.purposes), first.given_at, first.valid_until, None),
        ),
        (
            later.consent_id,
            Consent(later.scope, frozenset(later.purposes), later.given_at, later.valid_until, None),
        ),
    ]
    assert await store.case_of_consent_in_force(first.consent_id) == case_id
    withdrawn = await store.withdraw_consent(first.consent_id, by=withdrawer)
    assert withdrawn is not None and (withdrawn.person_id, withdrawn.case_id) == (person_id, case_id)
    assert await store.withdraw_consent(first.consent_id, by=withdrawer) is None  # withdrawn once
    assert await store.case_of_consent_in_force(first.consent_id) is None
    assert await store.case_of_consent_in_force(uuid.uuid4()) is None
    kept = dict(await store.consents_of(person_id))
    assert kept[first.consent_id].withdrawn_at == withdrawn.withdrawn_at
    assert kept[later.consent_id].withdrawn_at is None
    assert await store.consents_of(uuid.uuid4()) == []


async def test_a_recorded_event_waits_in_the_outbox_under_the_id_asked_for(store: PostgresStore) -> None:
    person_id = await person(store)
    case_id = await store.open_case_of(person_id)
    assert case_id is not None
    recorded, event_id = consent(person_id, case_id), uuid.uuid4()
    await store.keep_consent(recorded, event_id)
    envelope = await store.record(recorded, event_id=event_id)
    assert envelope.id == event_id
    row = await store.conn.fetchrow("SELECT topic, published_at FROM outbox WHERE event_id = $1", event_id)
    assert row is not None and row["published_at"] is None


async def test_a_household_gathers_its_members_and_the_cases_that_had_none(store: PostgresStore) -> None:
    household_id, other, a = uuid.uuid4(), uuid.uuid4(), agency()
    await store.add_household(household_id, a)
    await store.add_household(other, a)
    assert await store.cases_of_household(household_id) == []
    parent, child = await person(store), await person(store)
    parent_case, child_case = await store.open_case_of(parent), await store.open_case_of(child)
    assert parent_case is not None and child_case is not None
    await store.case_to_household(parent_case, household_id)
    await store.case_to_household(parent_case, other)  # it is the first household's already
    await store.conn.execute("UPDATE cases SET closed_at = now() WHERE case_id = $1", child_case)
    await store.case_to_household(child_case, household_id)
    cases = {c.case_id: c.closed_at for c in await store.cases_of_household(household_id)}
    assert set(cases) == {parent_case, child_case}
    assert cases[parent_case] is None and cases[child_case] is not None
    assert await store.cases_of_household(other) == []

    await store.join_household(household_id, child, "子")
    await store.join_household(household_id, child, None)  # a consultation that says no 続柄 keeps the one given
    await store.join_household(household_id, parent, None)
    members = await store.conn.fetch(
        "SELECT person_id, relation FROM household_members WHERE household_id = $1", household_id
    )
    assert {row["person_id"]: row["relation"] for row in members} == {child: "子", parent: None}
    await store.join_household(household_id, parent, "父")
    assert (
        await store.conn.fetchval(
            "SELECT relation FROM household_members WHERE household_id = $1 AND person_id = $2", household_id, parent
        )
        == "父"
    )


async def test_a_rejected_submission_is_found_with_its_reasons_and_kept_once(store: PostgresStore) -> None:
    a, submission_id = agency(), f"ce-{uuid.uuid4()}"
    assert await store.rejected_submission(a, submission_id) is None
    reasons = (
        RejectionReason(field="ce_type", message="must be the submission type"),
        RejectionReason(field="body.district", message="is not one of Fujisawa's districts"),
    )
    await store.keep_rejected_submission(a, submission_id, reasons)
    refused = await store.rejected_submission(a, submission_id)
    assert refused is not None
    assert refused["reasons"] == [reason.model_dump() for reason in reasons]
    assert isinstance(refused["rejected_at"], datetime)
    assert await store.rejected_submission(agency(), submission_id) is None  # another agency's ce_id is its own
    with pytest.raises(asyncpg.UniqueViolationError):  # a retried record is refused again without a second row
        async with store.transaction():
            await store.keep_rejected_submission(a, submission_id, reasons)


async def test_a_transaction_block_undoes_only_its_own_changes(store: PostgresStore) -> None:
    kept, undone = uuid.uuid4(), uuid.uuid4()
    await store.add_person(kept, b"k")
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.add_person(undone, b"k")
            raise RuntimeError("refused")
    assert await store.wrapped_key_of(kept) == b"k"
    assert await store.wrapped_key_of(undone) is None
