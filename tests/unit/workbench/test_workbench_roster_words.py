"""The roster as the workbench shows it: notify's own problems with a roster reach staff in Japanese and English
(every kind the validation produces, fed through as notify's API lists them), and the weekly table."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from services.notify.api import roster_problems
from services.notify.rosters import Roster
from services.workbench.roster_words import problem_words, weekly

PEOPLE = [{"id": "day", "email": "day@x.invalid"}, {"id": "night", "email": "night@x.invalid"}]
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]
DAY = {"role": "primary", "days": WEEK, "start": "09:00", "end": "18:00", "person": "day"}
NIGHT = {"role": "primary", "days": WEEK, "start": "18:00", "end": "09:00", "person": "night"}
OVERRIDE = {"role": "primary", "starts_at": "2026-12-01T12:00:00+09:00", "ends_at": "2026-12-01T11:00:00+09:00"}


def problems_of(roster: object) -> list[tuple[str, str]]:
    """What notify's API answers for the roster: each problem, worded for staff."""
    with pytest.raises(ValidationError) as refused:
        Roster.model_validate_json(roster if isinstance(roster, str) else json.dumps(roster))
    return [problem_words(p["field"], p["message"]) for p in roster_problems(refused.value)]


@pytest.mark.parametrize(
    ("roster", "japanese", "english"),
    [
        (
            {"people": PEOPLE, "shifts": [DAY]},
            "月曜に当番（主）のいない時間があります：00:00–09:00, 18:00–24:00",
            "No primary on Monday",
        ),
        (
            {"people": PEOPLE, "shifts": [DAY, dict(NIGHT, start="17:00")]},
            "2番目のシフト（当番（主））が1番目のシフトと重なっています（月曜 17:00）",
            "Shift 2 (primary) overlaps shift 1",
        ),
        (
            {"people": PEOPLE, "shifts": [DAY, dict(NIGHT, person="ghost")]},
            "担当者「ghost」が people にありません",
            "ghost is not",
        ),
        (
            {"people": PEOPLE, "shifts": [DAY, NIGHT], "overrides": [dict(OVERRIDE, person="day")]},
            "終わりが始まりより前",
            "Override 1 ends before it starts",
        ),
        ('{"people": [', "JSON として読み取れません", "not valid JSON"),
    ],
)
def test_each_kind_of_problem_reads_in_both_languages(roster: object, japanese: str, english: str) -> None:
    worded = problems_of(roster)
    assert any(japanese in ja and english in en for ja, en in worded), worded
    assert not any("誤りがあります（" in ja for ja, _ in worded), f"a problem fell through untranslated: {worded}"


def test_a_malformed_field_is_named() -> None:
    worded = problems_of({"people": PEOPLE, "shifts": [dict(DAY, start="nine")]})
    assert any("「shifts.0.start」に誤りがあります" in ja and "shifts.0.start" in en for ja, en in worded), worded


def test_the_week_lists_each_days_shifts_per_role() -> None:
    week = dict(weekly({"people": PEOPLE, "shifts": [NIGHT, DAY]}))
    assert week["mon"]["primary"] == [
        (("09:00–18:00", "09:00–18:00"), "day"),
        (("18:00–翌09:00", "18:00–09:00 next day"), "night"),
    ]
    assert week["holiday"]["secondary"] == []
    whole = dict(weekly({"shifts": [dict(DAY, start="00:00:00", end="00:00:00", days=["sun"])]}))
    assert whole["sun"]["primary"] == [(("終日", "all day"), "day")] and whole["mon"]["primary"] == []
