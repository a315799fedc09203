"""The first routing table: which agency a consultation is referred to.

ASSUMPTION (to be replaced by the service directory of the referral issue): agency ids are placeholders
shaped like the directory's. Older people go to the district's いきいきサポートセンター; disability to the
基幹相談支援センター; children and families to 子ども・子育て・青少年相談; poverty to バックアップふじさわ;
mental health to 精神保健福祉相談. A consultation across several domains, or on a coordination theme
(ひきこもり, ケアラー, ごみ屋敷, 8050), goes to the district's community social worker (CSW) for
multi-agency coordination.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from schemas.vocabulary import COORDINATION_THEMES, District, SupportDomain, Urgency

_CITY_WIDE: dict[SupportDomain, str] = {
    SupportDomain.DISABILITY: "shogai-kikan",
    SupportDomain.CHILD: "kodomo-seishonen",
    SupportDomain.MATERNAL_HEALTH: "boshi-hoken",
    SupportDomain.SINGLE_PARENT: "hitorioya",
    SupportDomain.SCHOOL: "gakko-kyoiku",
    SupportDomain.POVERTY: "backup-fujisawa",
    SupportDomain.MENTAL_HEALTH: "seishin-hoken",
    SupportDomain.ABUSE: "kodomo-seishonen",
}

# ASSUMPTION: first-response windows until the referral issue brings business-day deadlines.
RESPONSE_WINDOW = {Urgency.URGENT: timedelta(hours=2), Urgency.NORMAL: timedelta(days=3)}


@dataclass(frozen=True)
class Route:
    agency: str
    rule: str


def route(district: District, domains: tuple[SupportDomain, ...]) -> Route:
    """Pure: the agency that should own a consultation, and the rule that chose it."""
    if len(domains) > 1 or COORDINATION_THEMES.intersection(domains):
        return Route(f"csw-{district}", "coordination")
    (domain,) = domains
    if domain is SupportDomain.ELDERLY:
        return Route(f"ikiiki-{district}", "district-elderly")
    return Route(_CITY_WIDE[domain], f"city-wide-{domain}")


def respond_by(received_at: datetime, urgency: Urgency) -> datetime:
    return received_at + RESPONSE_WINDOW[urgency]
