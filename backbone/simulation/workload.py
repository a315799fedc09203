"""The workload: consultations as the city would see them in a day, deterministic for a seed.

- Districts are drawn in proportion to their population aged 65+ weighted by their ageing rate (the
  2025 column of the city's table, in schemas/directory.toml).
- ASSUMPTION (the city's document gives no breakdown): the support domains, the shares of multi-domain
  cases and of the themes ひきこもり / ケアラー / ごみ屋敷 / 8050, urgency, anonymity, consent and the
  receiving agencies follow the constants below, which are editable.
- Some persons consult twice, at two agencies (the backbone must recognise them).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from backbone.directory import Directory
from schemas.vocabulary import COORDINATION_THEMES, District, SupportDomain

SINGLE_DOMAINS: dict[SupportDomain, float] = {
    SupportDomain.ELDERLY: 0.42,
    SupportDomain.POVERTY: 0.14,
    SupportDomain.DISABILITY: 0.11,
    SupportDomain.MENTAL_HEALTH: 0.09,
    SupportDomain.CHILD: 0.08,
    SupportDomain.SINGLE_PARENT: 0.04,
    SupportDomain.SCHOOL: 0.04,
    SupportDomain.MATERNAL_HEALTH: 0.03,
    SupportDomain.ABUSE: 0.05,
}
SHARE_MULTI_DOMAIN = 0.12
SHARE_THEME = 0.10
SHARE_URGENT = 0.08
SHARE_ANONYMOUS = 0.20
SHARE_CONSENT = 0.70
SHARE_REPEAT_PERSON = 0.05
RECEIVERS = {"chiku-fukushi": 0.50, "ikiiki": 0.25, "csw": 0.15, "fukushi-sogo": 0.10}
CHANNELS = {"counter": 0.40, "phone": 0.35, "home-visit": 0.10, "outreach": 0.10, "community-place": 0.05}
FAMILY_NAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"]
GIVEN_NAMES = ["花子", "太郎", "一郎", "幸子", "和子", "誠", "恵子", "博", "洋子", "茂", "節子", "清"]


@dataclass(frozen=True)
class Consultation:
    """One consultation of the day: when (seconds into the day), at which agency, and the body to submit."""

    at: float
    agency: str
    body: dict[str, Any] = field(hash=False)


def district_weights(directory: Directory) -> dict[District, float]:
    return {d: entry.population_65 * entry.ageing_rate for d, entry in directory.districts.items()}


def generate(directory: Directory, *, seed: int, count: int, day_seconds: float) -> list[Consultation]:
    rng = random.Random(seed)  # noqa: S311 - a simulation, not security
    weights = district_weights(directory)
    districts, district_weight = list(weights), list(weights.values())
    people: list[dict[str, Any]] = []
    out = []
    for number in range(count):
        district = rng.choices(districts, district_weight)[0]
        domains = _domains(rng)
        agency = _receiver(rng, district)
        person = _person(rng, people)
        body: dict[str, Any] = {
            "receiving_agency": agency,
            "staff_id": f"sim-{number % 17:02d}",
            "channel": _pick(rng, CHANNELS),
            "district": district,
            "domains": [str(d) for d in domains],
            "urgency": "urgent" if rng.random() < SHARE_URGENT else "normal",
            "personal": {"summary": "シミュレーションの相談", "person": person},
        }
        if person is not None and rng.random() < SHARE_CONSENT:
            body["consent"] = {
                "scope": {"all_programme_agencies": True},
                "method": "written",
                "purposes": ["support", "referral", "case-meeting"],
            }
        out.append(Consultation(at=day_seconds * number / max(count, 1), agency=agency, body=body))
    return out


def _domains(rng: random.Random) -> list[SupportDomain]:
    draw = rng.random()
    if draw < SHARE_THEME:
        return [rng.choice(sorted(COORDINATION_THEMES)), SupportDomain.ELDERLY][: rng.choice((1, 2))]
    if draw < SHARE_THEME + SHARE_MULTI_DOMAIN:
        return rng.sample(list(SINGLE_DOMAINS), 2)
    return [_pick(rng, SINGLE_DOMAINS)]


def _receiver(rng: random.Random, district: District) -> str:
    kind = _pick(rng, RECEIVERS)
    return kind if kind == "fukushi-sogo" else f"{kind}-{district}"


def _person(rng: random.Random, people: list[dict[str, Any]]) -> dict[str, Any] | None:
    if rng.random() < SHARE_ANONYMOUS:
        return None
    if people and rng.random() < SHARE_REPEAT_PERSON:
        return rng.choice(people)  # the same person, now at another agency
    born = date(1935, 1, 1) + timedelta(days=rng.randrange(0, 365 * 80))
    person = {
        "family_name": rng.choice(FAMILY_NAMES),
        "given_name": f"{rng.choice(GIVEN_NAMES)}{rng.randrange(100)}",
        "birth_date": born.isoformat(),
    }
    people.append(person)
    return person


def _pick(rng: random.Random, shares: dict[Any, float]) -> Any:
    return rng.choices(list(shares), list(shares.values()))[0]
