from __future__ import annotations

from datetime import UTC, datetime, timedelta

from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral.routing import respond_by, route


def test_an_older_persons_consultation_goes_to_the_districts_support_centre() -> None:
    assert route(District.SHONAN_OBA, (SupportDomain.ELDERLY,)).agency == "ikiiki-shonan-oba"


def test_a_single_domain_goes_to_its_city_wide_agency() -> None:
    assert route(District.KATASE, (SupportDomain.POVERTY,)).agency == "backup-fujisawa"


def test_several_domains_or_a_coordination_theme_go_to_the_district_csw() -> None:
    assert route(District.CHOGO, (SupportDomain.ELDERLY, SupportDomain.DISABILITY)).rule == "coordination"
    assert route(District.CHOGO, (SupportDomain.EIGHT_FIFTY,)).agency == "csw-chogo"


def test_every_single_domain_has_a_route_in_every_district() -> None:
    for district in District:
        for domain in SupportDomain:
            assert route(district, (domain,)).agency


def test_urgent_referrals_are_due_sooner() -> None:
    now = datetime(2026, 11, 30, tzinfo=UTC)
    assert respond_by(now, Urgency.URGENT) - now < respond_by(now, Urgency.NORMAL) - now <= timedelta(days=3)
