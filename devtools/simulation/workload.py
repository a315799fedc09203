"""The workload: consultations as the city would see them in a day, deterministic for a seed.

- Districts are drawn in proportion to their population aged 65+ weighted by their ageing rate (the
  2025 column of the city's table, in schemas/directory.toml).
- ASSUMPTION (the city's document gives no breakdown): the support domains, the shares of multi-domain
  cases and of the themes ひきこもり / ケアラー / ごみ屋敷 / 8050, urgency, anonymity, consent and the
  receiving agencies follow the constants below, which are editable.
- Some persons consult twice, at two agencies (the backbone must recognise them).
- 8050 households (the seed's theme): a parent in their 80s consults the district's centre; later in the day
  the family tells the same centre about the child in their 50s who has withdrawn, naming the household. The
  child has not consented, so the household's case meets as a 支援会議.
- ひきこもり cases arrive as the seed says (p.17): brought by the family to the district CSW, mostly without the
  person's consent.
ASSUMPTION (the seed gives no numbers for these): the shares SHARE_8050, SHARE_WITHDRAWAL_BY_FAMILY and
SHARE_CONSENT_WITHDRAWAL below.
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
SHARE_8050 = 0.04
"""Of the day's consultations, a parent's that starts an 8050 household (the child's follows, one more)."""
SHARE_WITHDRAWAL_BY_FAMILY = 0.8
"""Of ひきこもり consultations, those the family brings to the district CSW."""
SHARE_CONSENT_WITHDRAWAL = 0.3
"""Of ひきこもり consultations, those where the person has consented (the others meet as 支援会議)."""
HOUSEHOLD_FOLLOWS = 0.15
"""How far into the rest of the day the child's consultation follows the parent's."""
RECEIVERS = {"chiku-fukushi": 0.50, "ikiiki": 0.25, "csw": 0.15, "fukushi-sogo": 0.10}
CHANNELS = {"counter": 0.40, "phone": 0.35, "home-visit": 0.10, "outreach": 0.10, "community-place": 0.05}
FAMILY_NAMES = ["佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田"]
GIVEN_NAMES = ["花子", "太郎", "一郎", "幸子", "和子", "誠", "恵子", "博", "洋子", "茂", "節子", "清"]


@dataclass(frozen=True)
class Consultation:
    """One consultation of the day: when (seconds into the day), at which agency, and the body to submit.
    `key` names it; `household_of` is the key of the consultation whose household this one joins (its answer
    gives the household_id, so it is submitted first)."""

    at: float
    agency: str
    body: dict[str, Any] = field(hash=False)
    key: str = ""
    household_of: str | None = None


def district_weights(directory: Directory) -> dict[District, float]:
    return {d: entry.population_65 * entry.ageing_rate for d, entry in directory.districts.items()}


def generate(directory: Directory, *, seed: int, count: int, day_seconds: float) -> list[Consultation]:
    rng = random.Random(seed)  # noqa: S311 - a simulation, not security
    weights = district_weights(directory)
    districts, district_weight = list(weights), list(weights.values())
    people: list[dict[str, Any]] = []
    out: list[Consultation] = []
    number = 0
    while len(out) < count:
        at = day_seconds * len(out) / max(count, 1)
        district = rng.choices(districts, district_weight)[0]
        if count - len(out) >= 2 and rng.random() < SHARE_8050:
            out += _household_8050(rng, f"c{number}", district, at, day_seconds)
            number += 1
            continue
        domains = _domains(rng)
        agency = _receiver(rng, district)
        person = _person(rng, people)
        body = _body(rng, number, agency=agency, district=district, domains=domains, person=person)
        if SupportDomain.WITHDRAWAL in domains and rng.random() < SHARE_WITHDRAWAL_BY_FAMILY:
            agency = body["receiving_agency"] = f"csw-{district}"
            body["consulted_by"] = "family"
        consent = SHARE_CONSENT_WITHDRAWAL if SupportDomain.WITHDRAWAL in domains else SHARE_CONSENT
        if person is not None and rng.random() < consent:
            body["consent"] = EVERYONE
        out.append(Consultation(at=at, agency=agency, body=body, key=f"c{number}"))
        number += 1
    return sorted(out, key=lambda item: item.at)


EVERYONE = {
    "scope": {"all_programme_agencies": True},
    "method": "written",
    "purposes": ["support", "referral", "case-meeting"],
}


def _body(
    rng: random.Random,
    number: int,
    *,
    agency: str,
    district: District,
    domains: list[SupportDomain],
    person: dict[str, Any] | None,
) -> dict[str, Any]:
    return {
        "receiving_agency": agency,
        "staff_id": f"sim-{number % 17:02d}",
        "channel": _pick(rng, CHANNELS),
        "district": district,
        "domains": [str(d) for d in domains],
        "urgency": "urgent" if rng.random() < SHARE_URGENT else "normal",
        "personal": {"summary": "シミュレーションの相談", "person": person},
    }


def _household_8050(rng: random.Random, key: str, district: District, at: float, day: float) -> list[Consultation]:
    """The parent's consultation at the district's centre, starting the household with their consent, and later
    the child's, brought by the family to the same centre, joining it without the child's consent."""
    agency = f"ikiiki-{district}"
    family = rng.choice(FAMILY_NAMES)
    parent = _body(
        rng, 0, agency=agency, district=district, domains=[SupportDomain.ELDERLY], person=_born(rng, family, 1938, 1946)
    )
    parent |= {"consent": EVERYONE, "household": {"relation": "head"}}
    child_domains = [SupportDomain.WITHDRAWAL, SupportDomain.EIGHT_FIFTY]
    child = _body(
        rng, 1, agency=agency, district=district, domains=child_domains, person=_born(rng, family, 1968, 1976)
    )
    child |= {"consulted_by": "family", "household": {"relation": "child"}}
    later = at + (day - at) * HOUSEHOLD_FOLLOWS * rng.random()
    return [
        Consultation(at=at, agency=agency, body=parent, key=key),
        Consultation(at=later, agency=agency, body=child, key=f"{key}-child", household_of=key),
    ]


def _born(rng: random.Random, family: str, first: int, last: int) -> dict[str, Any]:
    born = date(first, 1, 1) + timedelta(days=rng.randrange(0, 365 * (last - first)))
    return {
        "family_name": family,
        "given_name": f"{rng.choice(GIVEN_NAMES)}{rng.randrange(100)}",
        "birth_date": born.isoformat(),
    }


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
    person = _born(rng, rng.choice(FAMILY_NAMES), 1935, 2015)
    people.append(person)
    return person


def _pick(rng: random.Random, shares: dict[Any, float]) -> Any:
    return rng.choices(list(shares), list(shares.values()))[0]
