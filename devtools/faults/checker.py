"""The checker: what the backbone did with one run's submissions, read back from every service's own record.

In the style of Jepsen's checkers, it knows only what the client saw (which submissions were answered
2xx, which were refused) and compares that with what the services hold afterwards:

- lost: an accepted consultation missing its ledger row, its referral, or its delivered notification;
- duplicate effects: more than one referral or notification for one consultation, or an event twice in
  the ledger; e-mails sent twice for one notification are transport duplicates (at-least-once SMTP
  with a stable Message-ID), counted and reported, never a second notification row;
- order: within each topic, the records of one key (one case) must appear in the order they were
  written (CloudEvents `time`, after dropping redelivered copies of the same event id);
- phantoms: anything stored for a refused submission;
- poison: the dead-letter topics must hold exactly the poison records injected, nothing more or less.
"""

from __future__ import annotations

import mailbox
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import asyncpg

from backbone.kafka import decode_headers
from devtools.faults import topics
from devtools.faults.topics import Offsets
from devtools.faults.workload import Workload
from schemas.events import ConsultationReceived, NotificationDelivered, ReferralProposed
from schemas.topics import CONSUMERS, INTAKE_EVENTS, NOTIFY_EVENTS, REFERRAL_EVENTS, dead_letter_topic

ORDERED_TOPICS = (INTAKE_EVENTS, REFERRAL_EVENTS, NOTIFY_EVENTS)
DEAD_LETTER_TOPICS = tuple(dead_letter_topic(consumer) for consumer in CONSUMERS)
DEAD_LETTER_NAMES = {spec.name for spec in DEAD_LETTER_TOPICS}

# The ledger records every accepted consultation must leave, one of each (the checker's kind, event type).
LEDGER_RECORDS = (
    ("ledger: consultation", ConsultationReceived.TYPE),
    ("ledger: referral", ReferralProposed.TYPE),
    ("ledger: notification", NotificationDelivered.TYPE),
)


@dataclass
class Verdict:
    accepted: int = 0
    refused: int = 0
    unanswered: int = 0
    missing: dict[str, int] = field(default_factory=Counter)
    duplicate_effects: dict[str, int] = field(default_factory=Counter)
    transport_duplicates: dict[str, int] = field(default_factory=Counter)
    order_violations: int = 0
    phantoms: int = 0
    poison_injected: int = 0
    poison_dead_lettered: int = 0
    unexpected_dead_letters: int = 0

    @property
    def lost(self) -> int:
        return self.unanswered + max(self.missing.values(), default=0)

    @property
    def duplicates(self) -> int:
        return sum(self.duplicate_effects.values())

    @property
    def passed(self) -> bool:
        return (
            self.lost == 0
            and self.duplicates == 0
            and self.order_violations == 0
            and self.phantoms == 0
            and self.poison_dead_lettered == self.poison_injected
            and self.unexpected_dead_letters == 0
        )


@dataclass(frozen=True)
class Databases:
    """DSNs of the services' databases."""

    intake: str
    referral: str
    notify: str
    audit: str


async def outstanding(workload: Workload, dbs: Databases) -> int:
    """Accepted consultations not yet through to the end (0 means drained): the notification delivered,
    and the audit ledger holding each of the case's records. audit reads the three topics independently
    (a restarted audit may catch up on one before another), so no one record stands for the others."""
    cases = [item.case_id for item in workload.accepted()]
    delivered = await _rows(
        dbs.notify,
        "SELECT count(DISTINCT case_id) AS n FROM deliveries WHERE case_id = ANY($1::uuid[])"
        " AND category = 'referral-proposed' AND state = 'delivered'",
        cases,
    )
    recorded = await _rows(
        dbs.audit,
        "SELECT count(*) AS n FROM (SELECT case_id FROM ledger WHERE case_id = ANY($1::text[])"
        " AND event_type = ANY($2::text[]) GROUP BY case_id HAVING count(DISTINCT event_type) = $3) AS complete",
        [str(case) for case in cases],
        [event_type for _, event_type in LEDGER_RECORDS],
        len(LEDGER_RECORDS),
    )
    return len(cases) - min(int(delivered[0]["n"]), int(recorded[0]["n"]))


async def check(
    workload: Workload, dbs: Databases, bootstrap: str, since: Offsets, maildir: mailbox.Maildir | None
) -> Verdict:
    verdict = Verdict(
        accepted=len(workload.accepted()),
        refused=len(workload.refused()),
        unanswered=len(workload.unanswered()),
        poison_injected=len(workload.poison_keys),
    )
    cases = [item.case_id for item in workload.accepted()]
    events = [item.event_id for item in workload.accepted()]
    await _effects(verdict, dbs, cases, events, workload.staff_id)
    if maildir is not None:
        _mails(verdict, maildir, {str(case) for case in cases})
    await _topics(verdict, bootstrap, since, set(workload.poison_keys))
    return verdict


async def _rows(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


async def _effects(
    verdict: Verdict, dbs: Databases, cases: list[uuid.UUID | None], events: list[uuid.UUID | None], staff: str
) -> None:
    case_ids = [str(case) for case in cases]
    ledger = await _rows(
        dbs.audit,
        "SELECT event_type, case_id, count(*) AS n FROM ledger WHERE case_id = ANY($1::text[])"
        " AND event_type = ANY($2::text[]) GROUP BY 1, 2",
        case_ids,
        [event_type for _, event_type in LEDGER_RECORDS],
    )
    recorded = {(row["event_type"], row["case_id"]): row["n"] for row in ledger}
    for kind, event_type in LEDGER_RECORDS:
        counts = [recorded.get((event_type, case), 0) for case in case_ids]
        verdict.missing[kind] = sum(1 for n in counts if n == 0)
        verdict.duplicate_effects[kind] = sum(n - 1 for n in counts if n > 1)
    intake_rows = await _rows(dbs.intake, "SELECT event_id FROM consultations WHERE staff_id = $1", staff)
    stored = Counter(row["event_id"] for row in intake_rows)
    verdict.missing["intake: consultation"] = sum(1 for event in events if stored[event] == 0)
    # Refused submissions store nothing: every row of this run's staff id must be an accepted one.
    verdict.phantoms = len(intake_rows) - sum(1 for event in events if stored[event] > 0)
    referrals = Counter(
        row["case_id"]
        for row in await _rows(dbs.referral, "SELECT case_id FROM referrals WHERE case_id = ANY($1::uuid[])", cases)
    )
    verdict.missing["referral: referral"] = sum(1 for case in cases if referrals[case] == 0)
    verdict.duplicate_effects["referral: referral"] = sum(max(referrals[case] - 1, 0) for case in cases)
    deliveries = await _rows(
        dbs.notify,
        "SELECT case_id, state FROM deliveries WHERE case_id = ANY($1::uuid[]) AND category = 'referral-proposed'",
        cases,
    )
    delivered = Counter(row["case_id"] for row in deliveries if row["state"] == "delivered")
    planned = Counter(row["case_id"] for row in deliveries)
    verdict.missing["notify: delivered"] = sum(1 for case in cases if delivered[case] == 0)
    verdict.duplicate_effects["notify: notification"] = sum(max(planned[case] - 1, 0) for case in cases)


def _mails(verdict: Verdict, maildir: mailbox.Maildir, cases: set[str]) -> None:
    ids = Counter(message["Message-ID"] for message in maildir if message["X-Backbone-Case"] in cases)
    verdict.transport_duplicates["e-mail"] = sum(n - 1 for n in ids.values() if n > 1)


async def end_offsets(bootstrap: str) -> Offsets:
    """Where every checked topic ends now: the next run reads from here."""
    return await topics.end_offsets(bootstrap, (*ORDERED_TOPICS, *DEAD_LETTER_TOPICS))


async def _topics(verdict: Verdict, bootstrap: str, since: Offsets, poison: set[str]) -> None:
    """Read every checked partition from `since` to its end now."""
    last_time: dict[tuple[str, bytes | None], datetime] = {}
    seen: set[str] = set()
    dead: list[str] = []
    async for record in topics.records_since(bootstrap, since):
        if record.topic in DEAD_LETTER_NAMES:
            dead.append((record.key or b"").decode(errors="replace"))
            continue
        headers = decode_headers(record.headers)
        event_id = headers.get("ce_id", "")
        if event_id in seen:
            continue  # a redelivered copy: counted by the consumers' inboxes, not an order fault
        seen.add(event_id)
        at = datetime.fromisoformat(headers["ce_time"])
        stream = (record.topic, record.key)
        if stream in last_time and at < last_time[stream]:
            verdict.order_violations += 1
        last_time[stream] = max(at, last_time.get(stream, at))
    verdict.poison_dead_lettered = sum(1 for key in dead if key in poison)
    verdict.unexpected_dead_letters = sum(1 for key in dead if key not in poison)
