"""The one consent rule (backbone.consent) that intake's disclosures and meetings' law both decide by."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from backbone.consent import Consent
from schemas.events import ConsentPurpose, ConsentScope
from schemas.vocabulary import AgencyType

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)
MEETING = frozenset({ConsentPurpose.CASE_MEETING})


def consent(**times: datetime | None) -> Consent:
    return Consent(ConsentScope(agencies=("ikiiki-zengyo",)), MEETING, **times)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("times", "in_force"),
    [
        ({"given_at": NOW - HOUR}, True),
        ({"given_at": NOW}, True),
        ({"given_at": NOW + HOUR}, False),  # recorded ahead of its time: not yet
        ({"given_at": None}, True),  # kept before the time was: counted as given then
        ({"given_at": NOW - HOUR, "valid_until": NOW + HOUR}, True),
        ({"given_at": NOW - HOUR, "valid_until": NOW}, False),  # expired at the instant
        ({"given_at": NOW - HOUR, "withdrawn_at": NOW - HOUR}, False),
    ],
)
def test_a_consent_is_in_force_once_given_until_it_expires_or_is_withdrawn(
    times: dict[str, datetime | None], in_force: bool
) -> None:
    assert consent(**times).in_force(NOW) is in_force


def test_the_scope_covers_an_agency_by_id_by_type_or_all_of_the_programme() -> None:
    by_id = Consent(ConsentScope(agencies=("ikiiki-zengyo",)), MEETING)
    by_type = Consent(ConsentScope(agency_types=(AgencyType.DISTRICT_CSW,)), MEETING)
    everyone = Consent(ConsentScope(all_programme_agencies=True), MEETING)
    assert by_id.covers("ikiiki-zengyo", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    assert not by_id.covers("ikiiki-chogo", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    assert by_type.covers("csw-chogo", AgencyType.DISTRICT_CSW)
    assert not by_type.covers("ikiiki-zengyo", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    assert everyone.covers("anyone", AgencyType.COMMUNITY_PLACE)


def test_a_consent_allows_only_its_purposes_while_in_force() -> None:
    given = consent(given_at=NOW - HOUR)
    kind = AgencyType.COMMUNITY_SUPPORT_CENTRE
    assert given.allows("ikiiki-zengyo", kind, ConsentPurpose.CASE_MEETING, NOW)
    assert not given.allows("ikiiki-zengyo", kind, ConsentPurpose.SUPPORT, NOW)
    assert not given.allows("ikiiki-chogo", kind, ConsentPurpose.CASE_MEETING, NOW)
    assert not consent(given_at=NOW + HOUR).allows("ikiiki-zengyo", kind, ConsentPurpose.CASE_MEETING, NOW)
