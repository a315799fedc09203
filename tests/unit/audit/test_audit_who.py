"""The audit timeline's "who": the agency that acted, and the staff member by opaque id when a person did."""

from __future__ import annotations

from schemas.events import ReferralDeclined, ReferralDeclinedV2
from services.audit.queries import actor, as_row


def test_a_staff_members_action_names_the_agency_and_the_person_by_subject_id() -> None:
    by_system = {"agency": "ikiiki-katase", "referral_id": "r"}
    by_person = by_system | {"by_staff": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"}
    assert actor(by_system) == "ikiiki-katase"
    assert actor(by_person) == "ikiiki-katase (staff 9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d)"


def test_a_decision_recorded_in_two_versions_reads_as_one_decision_in_two_versions_of_the_contract() -> None:
    """During v1's deprecation window referral publishes a decline as v1 and v2: the timeline has both rows."""
    row = {"seq": 1, "event_id": "e", "topic": "referral.events.v1", "data": {"agency": "ikiiki-katase"}}
    v1 = as_row(row | {"event_type": ReferralDeclined.TYPE}, "ja")
    v2 = as_row(row | {"event_type": ReferralDeclinedV2.TYPE}, "en")
    assert (v1["what"], v2["what"]) == ("辞退", "referral declined (v2)")
