"""The audit timeline's "who": the agency that acted, and the staff member by opaque id when a person did."""

from __future__ import annotations

from services.audit.queries import actor


def test_a_staff_members_action_names_the_agency_and_the_person_by_subject_id() -> None:
    by_system = {"agency": "ikiiki-katase", "referral_id": "r"}
    by_person = by_system | {"by_staff": "9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d"}
    assert actor(by_system) == "ikiiki-katase"
    assert actor(by_person) == "ikiiki-katase (staff 9b1deb4d-3b7d-4bad-9bdd-2b0d7b3dcb6d)"
