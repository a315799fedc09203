"""The checker: what the backbone did with one run's submissions, read back from every service's own record.

In the style of Jepsen's checkers, it knows only what the client saw (which submissions were answered
2xx, which were refused) and compares that with what the services hold afterwards:

- lost: an accepted consultation missing its ledger row, its referral, or its delivered notification;
  a declined referral missing its decline in the ledger or the next agency's referral;
- duplicate effects: more than one referral or notification for one consultation (two when its first was
  declined), an event twice in the ledger, or a decline recorded twice in one version; e-mails sent
  twice for one notification are transport duplicates (at-least-once SMTP with a stable Message-ID),
  counted and reported, never a second notification row;
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

from backbone.kafka import decode_headers
from devtools.faults import topics
from devtools.faults.topics import Offsets
from devtools.faults.workload import Workload
from devtools.local.postgres import fetch
from schemas.events import (
    ConsultationReceived,
    NotificationDelivered,
    ReferralDeclined,
    ReferralDeclinedV2,
    ReferralProposed,
)
from schemas.topics import CONSUMERS, INTAKE_EVENTS, NOTIFY_EVENTS, REFERRAL_EVENTS, dead_letter_topic

ORDERED_TOPICS = (INTAKE_EVENTS, REFERRAL_EVENTS, NOTIFY_EVENTS)
DEAD_LETTER_TOPICS = tuple(dead_letter_topic(consumer) for consumer in CONSUMERS)
DEAD_LETTER_NAMES = {spec.name for spec in DEAD_LETTER_TOPICS}

# The ledger records every accepted consultation must leave (the checker's kind, event type, one per referral?):
# one consultation; a proposal and a delivered notification for each of its referrals.
LEDGER_RECORDS = (
    ("ledger: consultation", ConsultationReceived.TYPE, False),
    ("ledger: referral", ReferralProposed.TYPE, True),
    ("ledger: notification", NotificationDelivered.TYPE, True),
)
# A decline is published as v1, and also as v2 by a referral of the release that introduced it (the deprecation
# window): the ledger must hold it once in each version it was published in, and once at least.
DECLINE_VERSIONS = (ReferralDeclined.TYPE, ReferralDeclinedV2.TYPE)


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
    declines: dict[str, int] = field(default_factory=Counter)  # declined referrals by the versions recorded

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


def referrals_expected(workload: Workload, case: uuid.UUID | None) -> int:
    """One referral per consultation, and the next agency's when the first was declined."""
    return 2 if case in workload.declined else 1


async def outstanding(workload: Workload, dbs: Databases) -> int:
    """Accepted consultations not yet through to the end (0 means drained): each referral's notification
    delivered, and the audit ledger holding each of the case's records. audit reads the topics independently
    (a restarted audit may catch up on one before another), so no one record stands for the others."""
    cases = [item.case_id for item in workload.accepted()]
    delivered = await fetch(
        dbs.notify,
        "SELECT case_id, count(*) AS n FROM deliveries WHERE case_id = ANY($1::uuid[])"
        " AND category = 'referral-proposed' AND state = 'delivered' GROUP BY 1",
        cases,
    )
    notified = {row["case_id"]: row["n"] for row in delivered}
    recorded = await _ledger_counts(dbs, cases)
    declines = await _declines_recorded(dbs, workload)

    def through(case: uuid.UUID | None) -> bool:
        expected = referrals_expected(workload, case)
        return (
            notified.get(case, 0) >= expected
            and all(
                recorded.get((event_type, str(case)), 0) >= (expected if per_referral else 1)
                for _, event_type, per_referral in LEDGER_RECORDS
            )
            and (case not in workload.declined or str(workload.declined[case]) in declines)
        )

    return sum(1 for case in cases if not through(case))


async def _ledger_counts(dbs: Databases, cases: list[uuid.UUID | None]) -> dict[tuple[str, str], int]:
    """How many records of each checked type the ledger holds per case: (event type, case id) → count."""
    rows = await fetch(
        dbs.audit,
        "SELECT event_type, case_id, count(*) AS n FROM ledger WHERE case_id = ANY($1::text[])"
        " AND event_type = ANY($2::text[]) AND topic <> ALL($3::text[]) GROUP BY 1, 2",
        [str(case) for case in cases],
        [event_type for _, event_type, _ in LEDGER_RECORDS],
        sorted(DEAD_LETTER_NAMES),  # a dead-lettered copy is counted as a dead letter, not as a second record
    )
    return {(row["event_type"], row["case_id"]): row["n"] for row in rows}


async def _declines_recorded(dbs: Databases, workload: Workload) -> dict[str, Counter[str]]:
    """The run's declined referrals in the ledger: referral id → how many records of each version."""
    if not workload.declined:
        return {}
    rows = await fetch(
        dbs.audit,
        "SELECT data->>'referral_id' AS referral_id, event_type, count(*) AS n FROM ledger"
        " WHERE case_id = ANY($1::text[]) AND event_type = ANY($2::text[]) AND topic <> ALL($3::text[]) GROUP BY 1, 2",
        [str(case) for case in workload.declined],
        list(DECLINE_VERSIONS),
        sorted(DEAD_LETTER_NAMES),
    )
    recorded: dict[str, Counter[str]] = {}
    for row in rows:
        recorded.setdefault(row["referral_id"], Counter())[row["event_type"]] = row["n"]
    return recorded


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
    await _effects(verdict, dbs, workload)
    await _declines(verdict, dbs, workload)
    if maildir is not None:
        _mails(verdict, maildir, {str(case) for case in cases})
    await _topics(verdict, bootstrap, since, set(workload.poison_keys))
    return verdict


async def _effects(verdict: Verdict, dbs: Databases, workload: Workload) -> None:
    cases = [item.case_id for item in workload.accepted()]
    events = [item.event_id for item in workload.accepted()]
    expected = {case: referrals_expected(workload, case) for case in cases}
    recorded = await _ledger_counts(dbs, cases)
    for kind, event_type, per_referral in LEDGER_RECORDS:
        wanted = [(recorded.get((event_type, str(case)), 0), expected[case] if per_referral else 1) for case in cases]
        verdict.missing[kind] = sum(1 for n, want in wanted if n < want)
        verdict.duplicate_effects[kind] = sum(n - want for n, want in wanted if n > want)
    intake_rows = await fetch(dbs.intake, "SELECT event_id FROM consultations WHERE staff_id = $1", workload.staff_id)
    stored = Counter(row["event_id"] for row in intake_rows)
    verdict.missing["intake: consultation"] = sum(1 for event in events if stored[event] == 0)
    # Refused submissions store nothing: every row of this run's staff id must be an accepted one.
    verdict.phantoms = len(intake_rows) - sum(1 for event in events if stored[event] > 0)
    referrals = Counter(
        row["case_id"]
        for row in await fetch(dbs.referral, "SELECT case_id FROM referrals WHERE case_id = ANY($1::uuid[])", cases)
    )
    verdict.missing["referral: referral"] = sum(1 for case in cases if referrals[case] < expected[case])
    verdict.duplicate_effects["referral: referral"] = sum(max(referrals[case] - expected[case], 0) for case in cases)
    deliveries = await fetch(
        dbs.notify,
        "SELECT case_id, state FROM deliveries WHERE case_id = ANY($1::uuid[]) AND category = 'referral-proposed'",
        cases,
    )
    delivered = Counter(row["case_id"] for row in deliveries if row["state"] == "delivered")
    planned = Counter(row["case_id"] for row in deliveries)
    verdict.missing["notify: delivered"] = sum(1 for case in cases if delivered[case] < expected[case])
    verdict.duplicate_effects["notify: notification"] = sum(max(planned[case] - expected[case], 0) for case in cases)


async def _declines(verdict: Verdict, dbs: Databases, workload: Workload) -> None:
    """Each declined referral in the ledger once per version published; which versions, counted for the report."""
    if not workload.declined:
        return
    recorded = await _declines_recorded(dbs, workload)
    versions = {ReferralDeclined.TYPE: "v1", ReferralDeclinedV2.TYPE: "v2"}
    for referral in workload.declined.values():
        counts = recorded.get(str(referral), Counter())
        verdict.declines[" + ".join(versions[t] for t in DECLINE_VERSIONS if counts[t]) or "none"] += 1
        verdict.duplicate_effects["ledger: decline"] += sum(n - 1 for n in counts.values() if n > 1)
    verdict.missing["ledger: decline"] = verdict.declines.get("none", 0)


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
