"""What auditors ask of the ledger. Every function reads; none changes anything."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

from backbone.calendar import TOKYO, fiscal_year_bounds, reiwa
from backbone.db import Connection
from schemas.events import (
    TYPE_PREFIX,
    DeclineReason,
    MeetingCancelReason,
    MeetingHeld,
    MeetingKind,
    MeetingPurpose,
    MeetingReason,
    ReasonCode,
    ReferralCancelReason,
    ReferralDeclined,
    ReferralDeclinedV2,
    ReferralOverdue,
    purpose_of,
)

COLUMNS = "seq, topic, event_id, event_type, case_id, causation_id, trace_id, occurred_at, recorded_at, data"

LABELS = {
    "intake.consultation.received": ("相談受付", "consultation received"),
    "intake.consent.recorded": ("本人同意の記録", "consent recorded"),
    "intake.consent.withdrawn": ("同意の撤回", "consent withdrawn"),
    "intake.personal-data.disclosed": ("個人情報の開示", "personal data disclosed"),
    "intake.submission.rejected": ("受付拒否", "submission rejected"),
    "referral.referral.proposed": ("つなぎ提案", "referral proposed"),
    "referral.referral.accepted": ("受諾", "referral accepted"),
    "referral.referral.started": ("支援開始", "support started"),
    "referral.referral.declined": ("辞退", "referral declined"),
    "referral.referral.cancelled": ("取消", "referral cancelled"),
    "referral.referral.completed": ("完了", "referral completed"),
    "referral.referral.overdue": ("期限超過", "referral overdue"),
    "referral.referral.escalated": ("エスカレーション", "referral escalated"),
    "referral.case.lead-assigned": ("主担当決定", "lead agency assigned"),
    "referral.coordination.requested": ("多機関協働の依頼", "coordination requested"),
    "referral.outreach.started": ("アウトリーチ開始", "outreach started"),
    "referral.outreach.contact-attempted": ("接触の試み", "contact attempted"),
    "referral.outreach.contact-made": ("接触できた", "contact made"),
    "referral.outreach.consent-obtained": ("支援の同意", "consent obtained"),
    "referral.outreach.ended": ("アウトリーチ終了", "outreach ended"),
    "meetings.meeting.requested": ("会議の依頼", "meeting requested"),
    "meetings.meeting.scheduled": ("会議の日程確定", "meeting scheduled"),
    "meetings.meeting.rescheduled": ("会議の変更", "meeting rescheduled"),
    "meetings.meeting.cancelled": ("会議の中止", "meeting cancelled"),
    "meetings.meeting.held": ("会議の開催", "meeting held"),
    "meetings.support-plan.confirmed": ("支援プラン確定", "support plan confirmed"),
    "meetings.support-plan.review-opened": ("支援プランの見直し時期", "support plan due for review"),
    "notify.notification.delivered": ("通知", "notification delivered"),
    "notify.notification.failed": ("通知失敗", "notification failed"),
    "notify.notification.acknowledged": ("通知の確認", "notification acknowledged"),
    "notify.notification.escalated": ("通知のエスカレーション", "notification escalated"),
    "audit.query.performed": ("監査照会", "audit query"),
}


REASONS: dict[str, type[ReasonCode]] = {
    "referral.referral.declined": DeclineReason,
    "referral.referral.cancelled": ReferralCancelReason,
    "referral.coordination.requested": MeetingReason,
    "meetings.meeting.requested": MeetingReason,
    "meetings.meeting.cancelled": MeetingCancelReason,
}
"""The events that say why as a code (an agency's own words stay in the service it wrote them to)."""


def _short(event_type: str) -> str:
    return event_type.removeprefix(TYPE_PREFIX).rsplit(".", 1)[0]


def label(event_type: str, language: str) -> str:
    short = _short(event_type)
    ja, en = LABELS.get(short, (short, short))
    return ja if language == "ja" else en


def why(event_type: str, data: dict[str, Any] | None, language: str) -> str:
    """The reason code of the event, in words; empty for an event without one. Only a known code is shown:
    a record written before reasons were codes may hold an agency's words, which are not repeated here."""
    codes = REASONS.get(_short(event_type))
    given = (data or {}).get("reason")
    if codes is None or given not in set(codes):
        return ""
    code = codes(given)
    return code.japanese if language == "ja" else code.replace("-", " ")


ACTOR_FIELDS: tuple[tuple[str, ...], ...] = (
    ("from_agency", "to_agency"),
    ("agency",),
    ("receiving_agency",),
    ("requesting_agency", "outcome"),
    ("recipient_agency", "recipient_role"),
    ("lead_agency",),
    ("organizer",),
    ("coordinator",),
    ("recipient_agency",),
    ("obtained_by",),
    ("withdrawn_by",),
)
"""Per kind of record, the fields that say who acted or was addressed (the first group a record has all of)."""

NOT_AGENCIES = frozenset({"outcome", "recipient_role"})


def named(data: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The fields of `data` that say who acted or was addressed, with their values, in order."""
    for fields in ACTOR_FIELDS:
        if data and all(field in data for field in fields):
            return [(field, str(data[field])) for field in fields]
    return []


def agencies_named(data: dict[str, Any] | None) -> list[str]:
    """The agencies a record names as acting or addressed (their ids; the reader shows their names)."""
    return [value for field, value in named(data) if field not in NOT_AGENCIES]


def actor(data: dict[str, Any] | None) -> str:
    """Who acted or was addressed, in a few words (from ids only)."""
    who = " → ".join(value for _, value in named(data))
    if not who:
        return ""
    # A person who acted through the workbench, by the identity provider's opaque id (never a name).
    return f"{who} (staff {data['by_staff']})" if data and data.get("by_staff") else who


async def case_timeline(conn: Connection, case_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {COLUMNS} FROM ledger WHERE case_id = $1 ORDER BY occurred_at, seq", str(case_id))  # noqa: S608
    return _decoded(rows)


async def referral_timeline(conn: Connection, referral_id: UUID) -> list[dict[str, Any]]:
    """The referral's own events, the event that caused its proposal, and what they caused (notifications)."""
    rows = await conn.fetch(
        f"WITH own AS (SELECT {COLUMNS} FROM ledger WHERE data->>'referral_id' = $1),"  # noqa: S608
        f" causes AS (SELECT {COLUMNS} FROM ledger WHERE topic NOT LIKE '%.dlq.v1'"
        "   AND event_id IN (SELECT causation_id FROM own)),"
        f" effects AS (SELECT {COLUMNS} FROM ledger WHERE topic NOT LIKE '%.dlq.v1'"
        "   AND (causation_id IN (SELECT event_id FROM own) OR data->>'cause_event_id' IN (SELECT event_id FROM own)))"
        " SELECT * FROM own UNION SELECT * FROM causes UNION SELECT * FROM effects ORDER BY occurred_at, seq",
        str(referral_id),
    )
    return _decoded(rows)


async def trace_timeline(conn: Connection, trace_id: str) -> list[dict[str, Any]]:
    rows = await conn.fetch(f"SELECT {COLUMNS} FROM ledger WHERE trace_id = $1 ORDER BY occurred_at, seq", trace_id)  # noqa: S608
    return _decoded(rows)


async def disclosures(
    conn: Connection, *, case_id: UUID | None = None, agency: str | None = None
) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT data->>'requesting_agency' AS agency, data->>'outcome' AS outcome, data->>'person_id' AS person_id,"
        " data->>'case_id' AS case_id, occurred_at FROM ledger"
        " WHERE event_type = 'jp.fujisawa.welfare.intake.personal-data.disclosed.v1'"
        " AND ($1::text IS NULL OR data->>'case_id' = $1) AND ($2::text IS NULL OR data->>'requesting_agency' = $2)"
        " ORDER BY occurred_at",
        str(case_id) if case_id else None,
        agency,
    )
    return _decoded(rows)


# A decline is kept in two versions (referral.referral.declined.v1 and .v2, published together during v1's
# deprecation window; before it, v1 alone). Read with v2's meaning, each once: the agency whose referral it was
# (v1: on_behalf_of when a coordinator answered for a place, else agency), one decline per referral (a referral is
# declined at most once).
_DECLINES = (
    "SELECT DISTINCT ON (data->>'referral_id') data->>'referral_id' AS referral_id, occurred_at,"  # noqa: S608 - constants
    f" CASE WHEN event_type = '{ReferralDeclined.TYPE}' THEN coalesce(data->>'on_behalf_of', data->>'agency')"
    " ELSE data->>'agency' END AS agency, data->>'reason' AS reason"
    f" FROM ledger WHERE event_type IN ('{ReferralDeclined.TYPE}', '{ReferralDeclinedV2.TYPE}')"
    " ORDER BY data->>'referral_id', event_type DESC"
)


_DECLINE_TYPES = [ReferralDeclined.TYPE, ReferralDeclinedV2.TYPE]


async def unanswered_by_agency(conn: Connection) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT agency, count(*) FILTER (WHERE kind = 'overdue') AS overdue,"  # noqa: S608 - the types are constants
        " count(*) FILTER (WHERE kind = 'declined') AS declined FROM ("
        "  SELECT coalesce(data->>'to_agency', data->>'agency') AS agency, 'overdue' AS kind FROM ledger"
        f"  WHERE event_type = '{ReferralOverdue.TYPE}'"
        f"  UNION ALL SELECT agency, 'declined' FROM ({_DECLINES}) declines"
        ") unanswered GROUP BY 1 ORDER BY 2 DESC, 3 DESC"
    )
    return _decoded(rows)


async def yearly(conn: Connection, fiscal_year: int, language: str = "ja") -> dict[str, Any]:
    """The year's counts per event type and per reason code, with their labels in `language` for people."""
    start, end = fiscal_year_bounds(fiscal_year)
    # Declines are counted once each, under their newest type, whichever versions the ledger holds (_DECLINES).
    rows = await conn.fetch(
        "SELECT event_type, count(*) AS n FROM ledger WHERE occurred_at >= $1 AND occurred_at < $2"  # noqa: S608 - the types are constants
        " AND event_type <> ALL($3::text[]) GROUP BY event_type"
        f" UNION ALL SELECT '{ReferralDeclinedV2.TYPE}', count(*) FROM ({_DECLINES}) d"
        " WHERE occurred_at >= $1 AND occurred_at < $2 HAVING count(*) > 0 ORDER BY event_type",
        start,
        end,
        _DECLINE_TYPES,
    )
    reasons = await conn.fetch(
        "SELECT event_type, data->>'reason' AS reason, count(*) AS n FROM ledger"  # noqa: S608 - the types are constants
        " WHERE occurred_at >= $1 AND occurred_at < $2 AND event_type = ANY($3::text[]) GROUP BY 1, 2"
        f" UNION ALL SELECT '{ReferralDeclinedV2.TYPE}', reason, count(*) FROM ({_DECLINES}) d"
        " WHERE occurred_at >= $1 AND occurred_at < $2 GROUP BY 2",
        start,
        end,
        [f"{TYPE_PREFIX}{short}.v1" for short in REASONS if f"{TYPE_PREFIX}{short}.v1" not in _DECLINE_TYPES],
    )
    held = await conn.fetch(
        "SELECT data->>'kind' AS kind, data->>'purpose' AS purpose, count(*) AS n FROM ledger"
        " WHERE occurred_at >= $1 AND occurred_at < $2 AND event_type = $3 GROUP BY 1, 2",
        start,
        end,
        MeetingHeld.TYPE,
    )
    counts = {r["event_type"]: r["n"] for r in rows}
    by_reason = _by_reason(reasons)
    return {
        "fiscal_year": fiscal_year,
        "label": reiwa(fiscal_year),
        "counts": counts,
        "meetings_held": meetings_held(held),
        "purpose_labels": {p: p.japanese if language == "ja" else p.replace("-", " ") for p in MeetingPurpose},
        "reasons": by_reason,
        "labels": {event_type: label(event_type, language) for event_type in counts},
        "reason_labels": {
            event_type: {code: reason_words(event_type, code, language) for code in per_type}
            for event_type, per_type in by_reason.items()
        },
    }


def meetings_held(rows: list[Any]) -> dict[str, dict[str, int]]:
    """Meetings held, per kind and per the kind's purpose ① and ②, as the city reports its 実績. A record from
    before purposes existed counts under its kind's purpose ① (the only one there was)."""
    counts: dict[str, dict[str, int]] = {
        kind: {purpose: 0 for purpose in MeetingPurpose if purpose.kind is kind} for kind in MeetingKind
    }
    for row in rows:
        if row["kind"] not in set(MeetingKind) or (row["purpose"] and row["purpose"] not in set(MeetingPurpose)):
            continue  # not a record this version can read; the event counts above still include it
        kind = MeetingKind(row["kind"])
        purpose = purpose_of(kind, row["purpose"])
        if purpose.kind is kind:
            counts[kind][purpose] += row["n"]
    return counts


UNCODED = "uncoded"
UNCODED_WORDS = ("理由コードなし（コード化以前の記録）", "no reason code (recorded before the codes)")
"""A reason outside today's codes: a record from before reasons were codes, which may hold an agency's own
words; they are counted under this code and never repeated."""


def reason_words(event_type: str, code: str, language: str) -> str:
    if code == UNCODED:
        return UNCODED_WORDS[0] if language == "ja" else UNCODED_WORDS[1]
    return why(event_type, {"reason": code}, language) or code


def _by_reason(rows: list[Any]) -> dict[str, dict[str, int]]:
    """Per event type, how many gave each reason code; records from before the codes count as `uncoded`."""
    counts: dict[str, dict[str, int]] = {}
    for row in rows:
        known = set(REASONS[_short(row["event_type"])])
        code = row["reason"] if row["reason"] in known else UNCODED
        per_type = counts.setdefault(row["event_type"], {})
        per_type[code] = per_type.get(code, 0) + row["n"]
    return counts


def _later_version(event_type: str) -> str:
    """The suffix " (v2)" for a type's later version: during a deprecation window the same decision is recorded
    in both, and the auditor sees two rows that say one thing in two versions of the contract, not two decisions."""
    version = event_type.rsplit(".", 1)[-1]
    return "" if version == "v1" else f" ({version})"


def as_row(entry: dict[str, Any], language: str) -> dict[str, Any]:
    """A timeline row for people: time in Tokyo, what happened, who, the ids, the trace id."""
    data = entry.get("data") or {}
    moment: datetime | None = entry.get("occurred_at")
    return {
        "seq": entry["seq"],
        "time": moment.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S") if moment else "",
        "what": label(entry["event_type"], language) + _later_version(entry["event_type"]),
        "who": actor(data),
        "why": why(entry["event_type"], data, language),
        "event_id": entry["event_id"],
        "caused_by": entry.get("causation_id") or "",
        "trace_id": entry.get("trace_id") or "",
        "topic": entry["topic"],
    }


def _decoded(rows: list[Any]) -> list[dict[str, Any]]:
    """Rows as dicts, with the jsonb `data` column parsed (asyncpg hands jsonb over as text)."""
    out = []
    for row in rows:
        item = dict(row)
        if isinstance(item.get("data"), str):
            item["data"] = json.loads(item["data"])
        out.append(item)
    return out
