"""What the operators' commands print: tables for people, JSON for machines. Never a record's value."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

from backbone.calendar import TOKYO
from backbone.deadletter import DeadLetter
from console.deadletters import Listed
from schemas.topics import dead_letter_topic

DETAIL_WIDTH = 80
TYPE_PREFIX = "jp.fujisawa.welfare."


def dead_letter_row(listed: Listed) -> dict[str, Any]:
    letter = listed.letter
    origin = letter.origin
    return {
        "partition": letter.partition,
        "offset": letter.offset,
        "failed_at": letter.failed_at.isoformat() if letter.failed_at else None,
        "reason": letter.reason,
        "detail": letter.detail,
        "origin": {"topic": origin.topic, "partition": origin.partition, "offset": origin.offset} if origin else None,
        "attempts": letter.attempts,
        "event_type": letter.event_type,
        "event_id": letter.event_id,
        "redriven": listed.redriven,
    }


def dead_letters_json(listed: list[Listed]) -> str:
    return json.dumps([dead_letter_row(item) for item in listed], ensure_ascii=False, indent=2)


def dead_letters_table(consumer: str, listed: list[Listed]) -> str:
    topic = dead_letter_topic(consumer).name
    if not listed:
        return f"{topic}: no dead letters"
    waiting = sum(1 for item in listed if not item.redriven)
    lines = [
        f"{topic}: {_letters(len(listed))}, {waiting} not re-driven yet",
        "",
        f"{'offset':>7}  {'failed at (JST)':<19}  {'reason':<19} {'tries':>5}  {'origin':<32} {'state':<10} "
        f"{'event':<42} {'event id':<36}  detail",
    ]
    lines += [_row(item.letter, "re-driven" if item.redriven else "waiting") for item in listed]
    return "\n".join(lines)


def _row(letter: DeadLetter, state: str) -> str:
    origin = f"{letter.origin.topic}[{letter.origin.partition}]@{letter.origin.offset}" if letter.origin else "?"
    failed = letter.failed_at.astimezone(TOKYO).strftime("%Y-%m-%d %H:%M:%S") if letter.failed_at else "?"
    tries = "?" if letter.attempts is None else str(letter.attempts)
    kind = (letter.event_type or "-").removeprefix(TYPE_PREFIX)
    detail = letter.detail if len(letter.detail) <= DETAIL_WIDTH else letter.detail[: DETAIL_WIDTH - 1] + "…"
    return (
        f"{letter.offset:>7}  {failed:<19}  {letter.reason:<19} {tries:>5}  {origin:<32} {state:<10} "
        f"{kind:<42} {letter.event_id or '-':<36}  {detail}"
    )


def redrive_summary(consumer: str, outcomes: Counter[str], *, dry_run: bool) -> str:
    topic = dead_letter_topic(consumer).name
    total = sum(outcomes.values())
    if not total:
        return f"{topic}: nothing to re-drive (no dead letter that an earlier re-drive has not taken)"
    counts = ", ".join(f"{count} {outcome}" for outcome, count in outcomes.most_common())
    if dry_run:
        return f"{topic}, dry run ({_letters(total)}, nothing written or committed): {counts}"
    summary = f"{topic}: {_letters(total)} re-driven: {counts}"
    if outcomes["failed again"]:
        summary += f"; those that failed again are back in {topic} (`backbone dlq list {consumer}`)"
    return summary


def _letters(count: int) -> str:
    return f"{count} dead letter" if count == 1 else f"{count} dead letters"


def timeline_table(kind: str, key: str, rows: list[dict[str, Any]], *, language: str) -> str:
    """`backbone trace`'s table: time, what (with the reason code given, if any), who and trace id of each row."""
    heading = {"ja": ("時刻 (JST)", "出来事", "機関", "trace id"), "en": ("time (JST)", "what", "who", "trace id")}
    time, what, who, trace_id = heading[language]
    lines = [f"{kind} {key}: {len(rows)} events", "", f"{time:<20} {what:<44} {who:<52} {trace_id}"]
    lines += [f"{row['time']:<20} {_pad(_what(row), 44)} {_pad(row['who'], 52)} {row['trace_id']}" for row in rows]
    return "\n".join(lines)


def _what(row: dict[str, Any]) -> str:
    return f"{row['what']} ({row['why']})" if row.get("why") else str(row["what"])


def _pad(text: str, width: int) -> str:
    # Japanese characters take two columns in a terminal.
    shown = sum(2 if ord(char) > 0x2E80 else 1 for char in text)
    return text + " " * max(1, width - shown)
