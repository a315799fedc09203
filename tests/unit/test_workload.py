"""The day's workload: deterministic for a seed, and shaped by the city's own figures."""

from __future__ import annotations

from collections import Counter

from backbone import directory
from backbone.simulation.workload import SHARE_URGENT, district_weights, generate
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
