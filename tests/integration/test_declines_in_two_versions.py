"""A contract's new major version, walked: referral.referral.declined.v2 says whose referral was declined (`agency`)
and who answered for it (`answered_by`), where v1's `agency` was whoever acted. The ledger keeps v1 records from
before the window and both versions during it; the auditors' figures read them all with v2's meaning, each decline
once. (The producer's side, both versions per decline on the topic: test_referral_loop.)"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import pytest

from backbone.db import migrate
from backbone.kafka import encode_headers
from backbone.settings import DatabaseSettings
from schemas.envelope import Envelope
from schemas.events import DeclineReason, Event, ReferralDeclined, ReferralDeclinedV2
from schemas.topics import REFERRAL_EVENTS
from services.audit import ledger, queries
from services.audit.ledger import Entry, Signer
from tests.integration.stores import schema_pool

SIGNER = Signer.with_new_key()
AUDIT_MIGRATIONS = Path(__file__).parents[2] / "services" / "audit" / "migrations"
AT = datetime(2041, 6, 2, 1, 0, tzinfo=UTC)  # fiscal year 2041: nothing else in the tests database
PLACE, ANSWERS_FOR_IT, CENTRE = "ibasho-zengyo", "csw-zengyo", "ikiiki-zengyo"


@pytest.fixture
async def conn(tests_database: DatabaseSettings) -> AsyncIterator[asyncpg.Connection]:
    """A ledger of its own, in a schema created for the test and dropped after it."""
    schema = f"declines_{uuid.uuid4().hex[:8]}"
    pool = await schema_pool(tests_database.dsn.get_secret_value(), schema)
    try:
        await migrate(pool, "audit", AUDIT_MIGRATIONS)
        async with pool.acquire() as connection:
            yield connection
            await connection.execute(f"DROP SCHEMA {schema} CASCADE")
    finally:
        await pool.close()


async def recorded(conn: asyncpg.Connection, offset: int, event: Event) -> None:
    envelope = Envelope(id=uuid.uuid4(), source="/tests", type=event.TYPE, time=AT, correlationid=event.record_key())
    entry = Entry(
        REFERRAL_EVENTS.name, 0, offset, encode_headers(envelope.to_headers()), b"k", event.model_dump_json().encode()
    )
    async with conn.transaction():
        await ledger.append(conn, SIGNER, entry)


def declined(agency: str, on_behalf_of: str | None = None) -> ReferralDeclined:
    return ReferralDeclined(
        case_id=uuid.uuid4(),
        referral_id=uuid.uuid4(),
        agency=agency,
        on_behalf_of=on_behalf_of,
        at=AT,
        reason=DeclineReason.NO_CAPACITY,
    )


async def test_the_auditors_figures_read_both_versions_with_the_new_meaning_each_decline_once(
    conn: asyncpg.Connection,
) -> None:
    before_the_window = declined(ANSWERS_FOR_IT, on_behalf_of=PLACE)  # v1 alone: 社協 acted for the place
    in_the_window = [declined(CENTRE), declined(ANSWERS_FOR_IT, on_behalf_of=PLACE)]
    await recorded(conn, 0, before_the_window)
    for n, v1 in enumerate(in_the_window, 1):
        await recorded(conn, 2 * n - 1, v1)
        await recorded(conn, 2 * n, ReferralDeclinedV2.from_v1(v1))
    assert await ledger.verify(conn, SIGNER.public) == []  # the ledger keeps every record as it came

    unanswered = {row["agency"]: row["declined"] for row in await queries.unanswered_by_agency(conn)}
    assert unanswered == {PLACE: 2, CENTRE: 1}  # the place's declines are the place's, not 社協's

    figures = await queries.yearly(conn, 2041, "en")
    assert figures["counts"] == {ReferralDeclinedV2.TYPE: 3}
    assert figures["reasons"] == {ReferralDeclinedV2.TYPE: {"no-capacity": 3}}
    assert figures["labels"] == {ReferralDeclinedV2.TYPE: "referral declined"}


async def test_a_v1_record_reads_as_v2_says_it() -> None:
    for_a_place = ReferralDeclinedV2.from_v1(declined(ANSWERS_FOR_IT, on_behalf_of=PLACE))
    assert (for_a_place.agency, for_a_place.answered_by) == (PLACE, ANSWERS_FOR_IT)
    itself = ReferralDeclinedV2.from_v1(declined(CENTRE))
    assert (itself.agency, itself.answered_by) == (CENTRE, None)
