"""Routing: which agencies should own a consultation, best first. Pure: the directory is passed in.

- One support domain: the agencies of that domain in the case's district (a district's own before the
  city-wide ones, and those whose main domain it is first), then the city's general counters
  (福祉総合相談支援センター and, in the north, 北部福祉総合相談室), then multi-agency coordination.
- Several domains, or a coordination theme (ひきこもり, ケアラー, ごみ屋敷, 8050): multi-agency coordination
  (多機関協働) first: バックアップふじさわ社協, then バックアップふじさわ; the district CSW takes part.
- Agencies with no capacity are skipped; waitlisted ones come after those with room, marked as such.
- An agency that declined the case is never proposed again for it.
- Entry points (地区福祉窓口), community places (参加支援) and the CSW are not referral targets of a
  consultation.
- 参加支援 resources (community places) are destinations of a support plan's participation roles only. When
  a place declines such a role, the next place serving the district and the domain is proposed (the
  district's own before the city-wide ones), then multi-agency coordination, whose 社協 finds another.
"""

from __future__ import annotations

from dataclasses import dataclass

from backbone.directory import AgencyEntry, Capacity, Directory
from schemas.vocabulary import COORDINATION_THEMES, AgencyType, District, SupportDomain

NOT_TARGETS = {AgencyType.DISTRICT_WELFARE_COUNTER, AgencyType.COMMUNITY_PLACE, AgencyType.DISTRICT_CSW}
PARTICIPATION = "participation"
"""The routing rule of a referral to a 参加支援 resource for a plan's participation role."""
SUPPORT_PLAN = "support-plan"
"""The routing rule of a referral for any other role of a support plan."""
PLAN_RULES = frozenset({PARTICIPATION, SUPPORT_PLAN})
"""The rules of referrals a plan made: roles the meeting gave, not needs a consultation brought."""
GENERAL_COUNTERS = {AgencyType.WELFARE_CONSULTATION_CENTRE, AgencyType.NORTHERN_WELFARE_OFFICE}
# ASSUMPTION: the welfare council's team coordinates first, the city's own office second.
COORDINATOR_ORDER = ("backup-fujisawa-shakyo", "backup-fujisawa")


@dataclass(frozen=True)
class Route:
    agency: str
    rule: str
    reason: str
    waitlisted: bool = False


def needs_coordination(domains: tuple[SupportDomain, ...]) -> bool:
    return len(domains) > 1 or bool(COORDINATION_THEMES.intersection(domains))


def candidates(
    directory: Directory,
    district: District,
    domains: tuple[SupportDomain, ...],
    *,
    excluded: frozenset[str] = frozenset(),
    participation: bool = False,
) -> list[Route]:
    """Every agency that could own the case (or, with `participation`, take a plan's 参加支援 role), best
    first; empty when none is left."""
    routes: list[Route] = []
    if participation:
        places = [a for a in directory.places() if any(a.serves(district, domain) for domain in domains)]
        places.sort(key=lambda a: a.city_wide)
        routes += [_route(a, PARTICIPATION, f"参加支援 in {district}: {a.name}") for a in places]
    elif not needs_coordination(domains):
        (domain,) = domains
        serving = [a for a in directory.agencies.values() if a.serves(district, domain) and a.type not in NOT_TARGETS]
        specialised = [a for a in serving if a.type not in GENERAL_COUNTERS]
        # The district's own first, then those whose main (first-listed) domain it is; file order otherwise.
        specialised.sort(key=lambda a: (a.city_wide, a.domains[0] is not domain))
        routes += [_route(a, f"domain-{domain}", f"{domain} in {district}: {a.name}") for a in specialised]
        general = [a for a in serving if a.type in GENERAL_COUNTERS]
        general.sort(key=lambda a: a.city_wide)
        routes += [_route(a, "general-counter", f"no specialised agency took it: {a.name}") for a in general]
    reason = "several domains" if len(domains) > 1 else "a coordination theme"
    for agency_id in COORDINATOR_ORDER + tuple(a.id for a in directory.coordinators()):
        agency = directory.agency(agency_id)
        if agency is not None and agency.coordinator:
            routes.append(_route(agency, "coordination", f"{reason}: multi-agency coordination by {agency.name}"))
    seen: set[str] = set()
    usable = []
    for route in routes:
        agency = directory.agencies[route.agency]
        if route.agency in seen or route.agency in excluded or agency.capacity is Capacity.NONE:
            continue
        seen.add(route.agency)
        usable.append(route)
    return sorted(usable, key=lambda route: route.waitlisted)  # room first; the order is otherwise kept


def lead_coordinator(directory: Directory) -> str:
    """The agency that coordinates when nobody else will (多機関協働)."""
    for agency_id in COORDINATOR_ORDER:
        agency = directory.agency(agency_id)
        if agency is not None and agency.coordinator:
            return agency_id
    return directory.coordinators()[0].id


def _route(agency: AgencyEntry, rule: str, reason: str) -> Route:
    return Route(agency.id, rule, reason, waitlisted=agency.capacity is Capacity.WAITLIST)


def participants(
    directory: Directory, district: District, domains: tuple[SupportDomain, ...], lead: str
) -> tuple[str, ...]:
    """Who a coordination meeting should bring together: the lead, the district CSW, and per domain its agency."""
    people = [lead]
    csw = directory.csw(district)
    if csw is not None:
        people.append(csw.id)
    for domain in domains:
        if domain in COORDINATION_THEMES:
            continue
        first = next(iter(candidates(directory, district, (domain,))), None)
        if first is not None and first.rule != "coordination":
            people.append(first.agency)
    return tuple(dict.fromkeys(people))
