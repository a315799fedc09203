"""The day's workload: deterministic for a seed, and shaped by the city's own figures."""

from __future__ import annotations

from collections import Counter

from backbone import directory
from devtools.simulation.workload import (
    SHARE_8050,
    SHARE_URGENT,
    SHARE_WITHDRAWAL_BY_FAMILY,
    district_weights,
    generate,
)
from schemas.submission import ConsultationSubmission

DIRECTORY = directory.load()


def test_the_same_seed_gives_the_same_day_and_another_seed_another() -> None:
    one = generate(DIRECTORY, seed=1, count=50, day_seconds=60)
    assert one == generate(DIRECTORY, seed=1, count=50, day_seconds=60)
    assert one != generate(DIRECTORY, seed=2, count=50, day_seconds=60)


def test_districts_follow_the_older_population_and_every_submission_is_valid() -> None:
    day = generate(DIRECTORY, seed=7, count=3000, day_seconds=600)
    counts = Counter(str(c.body["district"]) for c in day)
    weights = district_weights(DIRECTORY)
    heaviest, lightest = max(weights, key=weights.__getitem__), min(weights, key=weights.__getitem__)
    assert counts[heaviest] > 3 * counts[lightest]  # 鵠沼 or 湘南大庭 against 遠藤
    urgent = sum(c.body["urgency"] == "urgent" for c in day) / len(day)
    assert abs(urgent - SHARE_URGENT) < 0.02
    assert sum(len(c.body["domains"]) > 1 for c in day) > 0.1 * len(day)
    for consultation in day[:500]:
        ConsultationSubmission.model_validate(consultation.body)  # what intake will accept
        assert consultation.body["receiving_agency"] in DIRECTORY.agencies
    assert [c.at for c in day] == sorted(c.at for c in day) and day[-1].at < 600


def test_8050_households_come_as_a_parent_then_the_child_and_withdrawal_comes_through_the_csw() -> None:
    day = generate(DIRECTORY, seed=7, count=3000, day_seconds=600)
    by_key = {c.key: c for c in day}
    children = [c for c in day if c.household_of is not None]
    assert abs(len(children) / len(day) - SHARE_8050 / (1 + SHARE_8050)) < 0.015
    for child in children:
        parent = by_key[child.household_of or ""]
        assert parent.at <= child.at and parent.agency == child.agency  # the family tells the same centre
        assert parent.body["household"] == {"relation": "head"} and "consent" in parent.body
        assert child.body["household"] == {"relation": "child"} and "consent" not in child.body
        assert child.body["consulted_by"] == "family" and "8050" in child.body["domains"]
        born = int(parent.body["personal"]["person"]["birth_date"][:4])
        assert int(child.body["personal"]["person"]["birth_date"][:4]) - born >= 22
    alone = [c for c in day if c.household_of is None and "withdrawal" in c.body["domains"]]
    by_csw = sum(c.agency.startswith("csw-") and c.body.get("consulted_by") == "family" for c in alone)
    assert abs(by_csw / len(alone) - SHARE_WITHDRAWAL_BY_FAMILY) < 0.1
    assert len({c.key for c in day}) == len(day)
