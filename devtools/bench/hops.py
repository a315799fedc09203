"""Where L1's time goes: a consultation's way from its submission to its e-mail, hop by hop.

Read afterwards from what the services record anyway, so that measuring adds nothing to the way measured. Every
stamp is this machine's clock; a stamp PostgreSQL writes (`now()`) is the start of the transaction that wrote it.

| stamp | read from |
|---|---|
| submitted | the load generator, before its POST |
| intake's transaction | intake's outbox row of the `ConsultationReceived` (`created_at`) |
| intake's relay | the same row's `published_at`: when the relay's transaction that sent it began |
| referral's transaction | referral's inbox row of that event (`processed_at`) |
| referral's relay | referral's outbox row of the case's `ReferralProposed` (`published_at`) |
| notify's transaction | notify's inbox row of that event (`processed_at`) |
| delivered | notify's delivery of it (`delivered_at`): when the SMTP server accepted the e-mail |

So each hop holds what happens between two stamps: "Kafka to referral", for one, holds the relay's send, the
broker's acknowledgement (acks=all), referral's fetch and the wait for its batch's transaction.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from uuid import UUID

import asyncpg

from backbone.settings import ServiceName
from devtools.bench.measure import percentiles
from devtools.local.postgres import fetch
from devtools.local.stack import LocalStack
from schemas.events import ConsultationReceived, ReferralProposed

HOPS = (
    "to intake's transaction",  # the HTTP request, its authentication and the reads before intake's transaction
    "to intake's relay",  # intake's transaction and commit, its NOTIFY, the relay's wake-up
    "Kafka to referral",
    "to referral's relay",
    "Kafka to notify",
    "notify's dispatch and SMTP",
)
"""The hops between the stamps, in order: len(HOPS) + 1 stamps a way."""

Way = tuple[datetime, ...]

WAY: tuple[ServiceName, ...] = ("intake", "referral", "notify")
"""The services whose records hold a consultation's way."""


def databases(stack: LocalStack) -> dict[str, str]:
    """The databases of the services on the way, as `ways` and `ways_between` take them."""
    return {service: stack.settings_for(service).database.dsn.get_secret_value() for service in WAY}


async def ways(dsns: Mapping[str, str], submitted: Mapping[UUID, datetime]) -> dict[UUID, Way]:
    """Each submitted case's stamps, for the cases whose whole way was found (`dsns`: service → its database)."""
    received = await fetch(
        dsns["intake"],
        f"{_RECEIVED} AND record_key = ANY($2::text[])",
        ConsultationReceived.TYPE,
        [str(case) for case in submitted],
    )
    found = await _onwards(dsns, received)
    return {case: (submitted[case], *way) for case, way in found.items()}


async def ways_between(dsns: Mapping[str, str], began: datetime, ended: datetime) -> list[Way]:
    """The ways of the consultations intake took in between two moments, from intake's transaction on: their
    hops are `HOPS[1:]` (the submission is the agency's, unknown here)."""
    received = await fetch(
        dsns["intake"], f"{_RECEIVED} AND created_at >= $2 AND created_at < $3", ConsultationReceived.TYPE, began, ended
    )
    return list((await _onwards(dsns, received)).values())


def hop_percentiles(found: Sequence[Way], hops: Sequence[str] = HOPS) -> dict[str, dict[str, float]]:
    """Each hop's percentiles in ms over the ways (`hops`: the names of their hops, one fewer than their stamps)."""
    return {
        hop: percentiles([(way[n + 1] - way[n]).total_seconds() * 1000 for way in found]) for n, hop in enumerate(hops)
    }


_RECEIVED = "SELECT record_key, event_id, created_at, published_at FROM outbox WHERE headers->>'ce_type' = $1"


async def _onwards(dsns: Mapping[str, str], intake: Sequence[asyncpg.Record]) -> dict[UUID, Way]:
    """From intake's outbox rows of `ConsultationReceived` on: each case's stamps from intake's transaction to the
    e-mail, for the cases whose whole way was found."""
    received = {UUID(row["record_key"]): row for row in intake if row["published_at"] is not None}
    proposals = await fetch(
        dsns["referral"],
        "SELECT DISTINCT ON (record_key) record_key, event_id, published_at FROM outbox"
        " WHERE record_key = ANY($1::text[]) AND headers->>'ce_type' = $2 ORDER BY record_key, seq",
        [str(case) for case in received],
        ReferralProposed.TYPE,
    )
    proposed = {UUID(row["record_key"]): row for row in proposals if row["published_at"] is not None}
    referral_took = await _first_processed(dsns["referral"], [row["event_id"] for row in received.values()])
    notify_took = await _first_processed(dsns["notify"], [row["event_id"] for row in proposed.values()])
    deliveries = await fetch(
        dsns["notify"],
        "SELECT cause_event_id, min(delivered_at) AS at FROM deliveries"
        " WHERE cause_event_id = ANY($1::uuid[]) AND state = 'delivered' GROUP BY cause_event_id",
        [row["event_id"] for row in proposed.values()],
    )
    delivered = {row["cause_event_id"]: row["at"] for row in deliveries}
    found: dict[UUID, Way] = {}
    for case, consultation in received.items():
        proposal = proposed.get(case)
        if proposal is None:
            continue  # a consultation that proposed no referral (a coordination theme goes to a meeting first)
        stamps = (
            consultation["created_at"],
            consultation["published_at"],
            referral_took.get(consultation["event_id"]),
            proposal["published_at"],
            notify_took.get(proposal["event_id"]),
            delivered.get(proposal["event_id"]),
        )
        if all(stamp is not None for stamp in stamps):
            found[case] = stamps  # type: ignore[assignment]  # every stamp checked above
    return found


async def _first_processed(dsn: str, events: list[UUID]) -> dict[UUID, datetime]:
    rows = await fetch(
        dsn,
        "SELECT event_id, min(processed_at) AS at FROM inbox WHERE event_id = ANY($1::uuid[]) GROUP BY event_id",
        events,
    )
    return {row["event_id"]: row["at"] for row in rows}
