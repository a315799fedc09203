"""An on-call roster (当番表) as staff read it: a weekly table of who is on call in each role, and notify's
problems with a roster put in plain Japanese and English. Pure: no I/O.

notify validates a roster (no gaps in the primary's cover, no overlaps within a role, only known people)
and words its problems in English; the patterns below are those words, so a problem reads the same in
both languages. Anything else notify says (a malformed time, an unknown field) is shown with its field.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday")
ROLES = ("primary", "secondary", "supervisor")
DAY_WORDS = {
    "mon": ("月曜", "Monday"),
    "tue": ("火曜", "Tuesday"),
    "wed": ("水曜", "Wednesday"),
    "thu": ("木曜", "Thursday"),
    "fri": ("金曜", "Friday"),
    "sat": ("土曜", "Saturday"),
    "sun": ("日曜", "Sunday"),
    "holiday": ("祝日", "public holidays"),
}
ROLE_WORDS = {
    "primary": ("当番（主）", "primary"),
    "secondary": ("当番（副）", "secondary"),
    "supervisor": ("管理職", "supervisor"),
}
Words = tuple[str, str]


def clock(value: str) -> str:
    """`HH:MM[:SS]` as `HH:MM`."""
    return value[:5]


def span(shift: dict[str, Any]) -> Words:
    """A shift's hours: all day, within the day, or past midnight into the next."""
    start, end = clock(str(shift["start"])), clock(str(shift["end"]))
    if start == end:
        return ("終日", "all day")
    if end != "00:00" and end < start:
        return (f"{start}–翌{end}", f"{start}–{end} next day")
    hours = f"{start}–{'24:00' if end == '00:00' else end}"
    return (hours, hours)


def weekly(roster: dict[str, Any]) -> list[tuple[str, dict[str, list[tuple[Words, str]]]]]:
    """Per day of the week (and holidays), per role: the shifts' hours and who holds them, earliest first."""
    table: list[tuple[str, dict[str, list[tuple[Words, str]]]]] = []
    for day in DAYS:
        roles: dict[str, list[tuple[Words, str]]] = {role: [] for role in ROLES}
        for shift in sorted(roster.get("shifts", []), key=lambda s: str(s["start"])):
            if day in shift["days"] and shift["role"] in roles:
                roles[shift["role"]].append((span(shift), str(shift["person"])))
        table.append((day, roles))
    return table


def _day(name: str) -> Words:
    return DAY_WORDS.get(name, (name, name))


def _role(name: str) -> Words:
    return ROLE_WORDS.get(name, (name, name))


PATTERNS: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Words]]] = [
    (
        re.compile(r"no primary on (\w+) (.+)"),
        lambda m: (
            f"{_day(m[1])[0]}に当番（主）のいない時間があります：{m[2]}。当番（主）は24時間切れ目なく割り当ててください。",
            f"No primary on {_day(m[1])[1]} at {m[2]}: the primary must be covered around the clock.",
        ),
    ),
    (
        re.compile(r"shift (\d+) \((\w+)\) overlaps shift (\d+) on (\w+) at (\d\d:\d\d)"),
        lambda m: (
            f"{m[1]}番目のシフト（{_role(m[2])[0]}）が{m[3]}番目のシフトと重なっています（{_day(m[4])[0]} {m[5]}）。"
            "同じ役割のシフトは重ならないようにしてください。",
            f"Shift {m[1]} ({_role(m[2])[1]}) overlaps shift {m[3]} on {_day(m[4])[1]} at {m[5]}: shifts of one "
            "role must not overlap.",
        ),
    ),
    (
        re.compile(r"(shift|override) (\d+): unknown person '(.+)'"),
        lambda m: (
            f"{m[2]}番目の{'シフト' if m[1] == 'shift' else '臨時の交代'}の担当者「{m[3]}」が people にありません。",
            f"{m[1].capitalize()} {m[2]}: {m[3]} is not among the people.",
        ),
    ),
    (
        re.compile(r"override (\d+): ends before it starts"),
        lambda m: (
            f"{m[1]}番目の臨時の交代は、終わりが始まりより前になっています。",
            f"Override {m[1]} ends before it starts.",
        ),
    ),
    (
        re.compile(r"(?:Invalid JSON|JSON input should be).*"),
        lambda m: (
            "JSON として読み取れません。括弧やカンマ、引用符を確かめてください。",
            "This is not valid JSON: check the brackets, commas and quotes.",
        ),
    ),
]


def problem_words(field: str, message: str) -> Words:
    """One of notify's problems with a roster, in Japanese and English."""
    for pattern, words in PATTERNS:
        found = pattern.fullmatch(message)
        if found:
            return words(found)
    where = f"「{field}」" if field else "当番表"
    return (f"{where}に誤りがあります（{message}）。", f"{field or 'The roster'}: {message}.")
