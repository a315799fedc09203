from __future__ import annotations

import pytest

from backbone import directory
from backbone.directory import Capacity
from schemas.vocabulary import COORDINATION_THEMES, AgencyType, District, SupportDomain
from services.referral.routing import GENERAL_COUNTERS, NOT_TARGETS, candidates, participants

DIRECTORY = directory.load()


def first(district: District, *domains: SupportDomain, excluded: frozenset[str] = frozenset()) -> str:
    return candidates(DIRECTORY, district, domains, excluded=excluded)[0].agency


def test_an_older_persons_consultation_goes_to_the_districts_support_centre() -> None:
    assert first(District.SHONAN_OBA, SupportDomain.ELDERLY) == "ikiiki-shonan-oba"


@pytest.mark.parametrize("district", list(District))
def test_every_district_has_a_support_centre_of_its_own_for_older_persons(district: District) -> None:
    own = DIRECTORY.agencies[first(district, SupportDomain.ELDERLY)]
    assert (own.type, own.districts) == (AgencyType.COMMUNITY_SUPPORT_CENTRE, (district,))


def test_a_single_domain_goes_to_the_agency_whose_main_domain_it_is() -> None:
    assert first(District.KATASE, SupportDomain.POVERTY) == "backup-fujisawa"
    assert first(District.KATASE, SupportDomain.SCHOOL) == "gakko-kyoiku"
    assert first(District.GOSHOMI, SupportDomain.DISABILITY) == "shogai-chiiki-kita"


def test_several_domains_or_a_coordination_theme_go_to_multi_agency_coordination() -> None:
    route = candidates(DIRECTORY, District.CHOGO, (SupportDomain.ELDERLY, SupportDomain.DISABILITY))[0]
    assert (route.agency, route.rule) == ("backup-fujisawa-shakyo", "coordination")
    assert first(District.CHOGO, SupportDomain.EIGHT_FIFTY) == "backup-fujisawa-shakyo"


def test_the_coordination_meeting_brings_the_district_csw_and_each_domains_agency() -> None:
    people = participants(
        DIRECTORY, District.CHOGO, (SupportDomain.ELDERLY, SupportDomain.WITHDRAWAL), "backup-fujisawa-shakyo"
    )
    assert people == ("backup-fujisawa-shakyo", "csw-chogo", "ikiiki-chogo")


@pytest.mark.parametrize("district", list(District))
@pytest.mark.parametrize("domain", list(SupportDomain))
def test_every_need_in_every_district_has_an_agency_of_the_directory_and_reaches_a_coordinator(
    district: District, domain: SupportDomain
) -> None:
    routes = candidates(DIRECTORY, district, (domain,))
    assert len({r.agency for r in routes}) == len(routes)
    assert any(DIRECTORY.agencies[route.agency].coordinator for route in routes)  # whoever else declines
    if domain in COORDINATION_THEMES:
        assert {r.rule for r in routes} == {"coordination"}
        return
    # Read from the directory itself, not from routing: who takes this need in this district.
    serving = {
        agency.id
        for agency in DIRECTORY.agencies.values()
        if agency.serves(district, domain)
        and agency.type not in NOT_TARGETS | GENERAL_COUNTERS
        and agency.capacity is not Capacity.NONE
    }
    assert serving, f"no agency of the directory takes {domain} in {district}: only a general counter would"
    assert routes[0].agency in serving and routes[0].rule == f"domain-{domain}"
    assert serving <= {r.agency for r in routes}  # every one of them is a candidate


def test_declined_agencies_are_never_proposed_again_and_no_capacity_is_skipped() -> None:
    declined = frozenset({"ikiiki-zengyo"})
    assert "ikiiki-zengyo" not in [
        r.agency for r in candidates(DIRECTORY, District.ZENGYO, (SupportDomain.ELDERLY,), excluded=declined)
    ]
    full = DIRECTORY.with_capacity("ikiiki-zengyo", Capacity.NONE)
    assert candidates(full, District.ZENGYO, (SupportDomain.ELDERLY,))[0].agency == "ikiiki-kikan"


def test_a_waitlisted_agency_comes_after_those_with_room_and_is_marked() -> None:
    waiting = DIRECTORY.with_capacity("ikiiki-zengyo", Capacity.WAITLIST)
    routes = candidates(waiting, District.ZENGYO, (SupportDomain.ELDERLY,))
    assert routes[0].agency != "ikiiki-zengyo"
    assert next(r for r in routes if r.agency == "ikiiki-zengyo").waitlisted


def test_community_places_are_never_a_consultations_destination() -> None:
    for district in District:
        for domain in SupportDomain:
            for route in candidates(DIRECTORY, district, (domain,)):
                assert DIRECTORY.agencies[route.agency].type is not AgencyType.COMMUNITY_PLACE


def test_a_declined_participation_role_goes_to_another_place_then_to_coordination() -> None:
    """参加支援: the district's own place first, then the city-wide ones serving the domain, then 社協."""
    routes = candidates(
        DIRECTORY, District.KUGENUMA, (SupportDomain.WITHDRAWAL,), excluded=frozenset(), participation=True
    )
    places = [r.agency for r in routes if r.rule == "participation"]
    assert set(places[:3]) == {"engawa-kugenuma-kikan", "engawa-kugenuma", "volunteer-kugenuma"}
    assert all(DIRECTORY.agencies[a].type is AgencyType.COMMUNITY_PLACE for a in places)
    assert "engawa-shonandai" not in places  # another district's 縁側
    assert "noufuku" in places and "shuro-junbi" in places  # city-wide places serving withdrawal
    assert routes[-1].rule == "coordination"
    after = candidates(
        DIRECTORY, District.KUGENUMA, (SupportDomain.WITHDRAWAL,), excluded=frozenset({"engawa-kugenuma"}),
        participation=True,
    )  # fmt: skip
    assert after[0].agency != "engawa-kugenuma" and after[0].rule == "participation"
