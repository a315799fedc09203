"""Need to know, defined once: which events involve which agencies in a case (backbone/involvement.py).

Every field of every event that names an agency is either one that involves it, or one listed below
with why it does not; a new event or field naming an agency fails the last test until someone decides.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from backbone.involvement import INVOLVING, Role, involved_by
from schemas.events import (
    AGENCY_ID_PATTERN,
    CaseLeadAssigned,
    ConsultationReceived,
    Event,
    MeetingCancelled,
    MeetingKind,
    MeetingRequested,
    MeetingRescheduled,
    NotificationDelivered,
    ReferralAccepted,
    ReferralProposed,
)

CASE = uuid.uuid4()
NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)
MEETING: dict[str, Any] = {
    "case_id": CASE,
    "meeting_id": uuid.uuid4(),
    "kind": MeetingKind.CONFIDENTIAL,
    "organizer": "backup-fujisawa-shakyo",
    "participants": ("csw-katase", "backup-fujisawa-shakyo", "ikiiki-katase"),
}

# (event, field) -> why naming the agency there does not make it involved.
NOT_INVOLVING = {
    (
        "ReferralProposed",
        "from_agency",
    ): "the referring agency took in the consultation, declined, or organised the plan",
    ("ReferralAction", "agency"): "only an involved agency may act on a referral",
    ("ReferralAction", "on_behalf_of"): "the referred place, involved by ReferralProposed",
    ("ReferralDeclinedV2", "agency"): "the referred agency, involved by ReferralProposed",
    ("ReferralDeclinedV2", "answered_by"): "only an involved agency may act on a referral",
    ("ReferralOverdue", "to_agency"): "the referred agency, involved by ReferralProposed",
    ("ReferralEscalated", "to_agency"): "the referred agency or a coordinator, involved already",
    ("CoordinationRequested", "coordinator"): "a coordinator, involved in every case",
    ("CoordinationRequested", "participants"): "proposed: they become involved when the meeting is requested",
    ("MeetingCancelled", "organizer"): "involved by the meeting's request or schedule",
    ("MeetingCancelled", "participants"): "involved by the meeting's request or schedule",
    ("MeetingHeld", "organizer"): "involved by the meeting's request or schedule",
    ("MeetingHeld", "participants"): "involved by the meeting's request or schedule",
    ("SupportPlanConfirmed", "organizer"): "involved by the meeting",
    ("SupportPlanConfirmed", "roles"): "each role becomes a referral (ReferralProposed)",
    ("SupportPlanReviewOpened", "organizer"): "the plan's organizer, involved by its meeting",
    ("OutreachFacts", "holder"): "involved by OutreachStarted",
    ("OutreachFacts", "partner"): "involved by OutreachStarted",
    ("NotificationDelivered", "recipient_agency"): "notified because it is involved",
    ("NotificationFailed", "recipient_agency"): "notified because it is involved",
    ("NotificationAcknowledged", "recipient_agency"): "notified because it is involved",
    ("NotificationEscalated", "recipient_agency"): "notified because it is involved",
    ("ConsentRecorded", "obtained_by"): "only the agency that took in a consultation records consent",
    ("ConsentWithdrawn", "withdrawn_by"): "only an involved agency records a withdrawal",
    ("PersonalDataDisclosed", "requesting_agency"): "asking to read a person involves nobody",
    ("SubmissionRejected", "agency"): "a refused submission has no case",
    ("ReferralActionRejected", "agency"): "a refused action gives the sender no part in the case",
}
INVOLVING_FIELDS = {
    ("OutreachStarted", "holder"),
    ("OutreachStarted", "partner"),
    ("ConsultationReceived", "receiving_agency"),
    ("ReferralProposed", "to_agency"),
    ("CaseLeadAssigned", "lead_agency"),
    ("MeetingRequested", "organizer"),
    ("MeetingRequested", "participants"),
    ("MeetingScheduled", "organizer"),
    ("MeetingScheduled", "participants"),
    ("MeetingRescheduled", "organizer"),
    ("MeetingRescheduled", "participants"),
}


def test_each_involving_event_names_whom_it_involves_and_why() -> None:
    received = ConsultationReceived.model_construct(case_id=CASE, receiving_agency="chiku-fukushi-katase")
    proposed = ReferralProposed.model_construct(
        case_id=CASE, from_agency="chiku-fukushi-katase", to_agency="ikiiki-katase"
    )
    lead = CaseLeadAssigned(case_id=CASE, lead_agency="ikiiki-katase", referral_id=uuid.uuid4(), assigned_at=NOW)
    requested = MeetingRequested(**MEETING, proposed_start=NOW, proposed_end=NOW, reason="multi-domain")
    moved = MeetingRescheduled(**MEETING, starts_at=NOW, ends_at=NOW, sequence=1)

    assert involved_by(received) == (("chiku-fukushi-katase", Role.RECEIVED),)
    assert involved_by(proposed) == (("ikiiki-katase", Role.REFERRED),)  # not the referring agency
    assert involved_by(lead) == (("ikiiki-katase", Role.LEAD),)
    expected = (
        ("backup-fujisawa-shakyo", Role.MEETING),
        ("csw-katase", Role.MEETING),
        ("ikiiki-katase", Role.MEETING),
    )
    assert involved_by(requested) == involved_by(moved) == expected  # the organizer once


def test_events_that_only_report_on_a_case_involve_nobody() -> None:
    accepted = ReferralAccepted(case_id=CASE, referral_id=uuid.uuid4(), agency="ikiiki-endo", at=NOW)
    cancelled = MeetingCancelled.model_construct(**MEETING, reason="other", sequence=1)
    delivered = NotificationDelivered.model_construct(case_id=CASE, recipient_agency="ikiiki-endo")
    assert involved_by(accepted) == involved_by(cancelled) == involved_by(delivered) == ()
    assert {model.__name__ for model in INVOLVING} == {name for name, _ in INVOLVING_FIELDS}


def _event_types() -> set[type[Event]]:
    found: set[type[Event]] = set()
    todo: list[type[Event]] = [Event]
    while todo:
        for sub in todo.pop().__subclasses__():
            found.add(sub)
            todo.append(sub)
    return found


def _names_an_agency(model: type[Event], name: str) -> bool:
    field = model.model_fields[name]
    return AGENCY_ID_PATTERN in repr(field) or name == "roles"


def test_every_field_that_names_an_agency_is_decided_involving_or_not() -> None:
    undecided = []
    for model in _event_types():
        if getattr(model, "TYPE", None) is None:  # a base such as MeetingFacts: its subclasses are checked
            continue
        for name in model.model_fields:
            if not _names_an_agency(model, name):
                continue
            # A field declared on a base (ReferralAction.agency) is decided once, for every subclass.
            owners = [base.__name__ for base in model.__mro__ if name in getattr(base, "__annotations__", {})]
            if not any(
                (owner, name) in NOT_INVOLVING or (owner, name) in INVOLVING_FIELDS
                for owner in [model.__name__, *owners]
            ):
                undecided.append(f"{model.__name__}.{name}")
    assert not undecided, f"decide whether these involve the agency (backbone/involvement.py): {sorted(undecided)}"
