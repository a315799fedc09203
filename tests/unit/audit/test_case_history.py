"""A case's history as far as an agency is involved (services/audit/case_history.py): who may read it, and which
records each involved agency sees, decided over ledger rows made from real events."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

from schemas.events import (
    ConsultationReceived,
    Event,
    MeetingCancelled,
    MeetingCancelReason,
    MeetingKind,
    MeetingRequested,
    NotificationDelivered,
    PersonalDataDisclosed,
    PlanRole,
    ReferralAccepted,
    ReferralProposed,
    SupportPlanConfirmed,
)
from schemas.vocabulary import SupportDomain
from services.audit.case_history import as_far_as, involved_agencies
from services.audit.recording import QUERY_TYPE

CASE = uuid.uuid4()
NOW = datetime(2026, 12, 3, 9, tzinfo=UTC)
COUNTER, CENTRE, CSW, OUTSIDER = "chiku-fukushi-katase", "ikiiki-katase", "csw-katase", "ikiiki-endo"


def entry(event: Event, *, topic: str = "") -> dict[str, Any]:
    """A ledger row as audit's queries decode it."""
    return {
        "event_type": event.TYPE,
        "topic": topic or event.TOPIC.name,
        "occurred_at": NOW,
        "data": event.model_dump(mode="json"),
    }


def construct(model: type[Event], **fields: Any) -> Event:
    """An event with just the fields the rules look at (the ledger keeps whole events; these stand for them)."""
    return model.model_construct(case_id=CASE, **fields)


def a_case() -> dict[str, dict[str, Any]]:
    referral, meeting, other_meeting = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    facts = {"kind": MeetingKind.CONFIDENTIAL, "organizer": COUNTER}
    return {
        "received": entry(construct(ConsultationReceived, receiving_agency=COUNTER)),
        "proposed": entry(construct(ReferralProposed, referral_id=referral, from_agency=COUNTER, to_agency=CENTRE)),
        "accepted": entry(ReferralAccepted(case_id=CASE, referral_id=referral, agency=CENTRE, at=NOW)),
        "meeting_with_csw": entry(
            MeetingRequested(
                case_id=CASE,
                meeting_id=meeting,
                participants=(CSW,),
                proposed_start=NOW,
                proposed_end=NOW,
                reason="multi-domain",
                **facts,
            )
        ),
        "meeting_with_centre": entry(
            MeetingRequested(
                case_id=CASE,
                meeting_id=other_meeting,
                participants=(CENTRE,),
                proposed_start=NOW,
                proposed_end=NOW,
                reason="multi-domain",
                **facts,
            )
        ),
        "csw_meeting_cancelled": entry(
            construct(
                MeetingCancelled,
                meeting_id=meeting,
                participants=(CSW,),
                reason=MeetingCancelReason.OTHER,
                sequence=1,
                **facts,
            )
        ),
        "plan_giving_csw_a_role": entry(
            construct(
                SupportPlanConfirmed,
                meeting_id=other_meeting,
                organizer=COUNTER,
                roles=(PlanRole(agency=CSW, domain=SupportDomain.ELDERLY, responsibility="monitoring"),),
            )
        ),
        "notified_centre": entry(construct(NotificationDelivered, recipient_agency=CENTRE, channel="email")),
        "disclosed_to_centre": entry(construct(PersonalDataDisclosed, requesting_agency=CENTRE, outcome="allowed")),
        "audit_query": {"event_type": QUERY_TYPE, "topic": "audit", "data": {"case_id": str(CASE)}},
        "dead_letter": entry(construct(ReferralAccepted, agency=CENTRE), topic="referral.dlq.v1"),
    }


def test_the_agencies_the_records_involve_may_read_the_history_and_no_other() -> None:
    rows = list(a_case().values())
    assert involved_agencies(rows) == {COUNTER, CENTRE, CSW}
    assert OUTSIDER not in involved_agencies(rows)
    # A record this version cannot read involves nobody (not even the agency it seems to name).
    unreadable = {"event_type": ReferralProposed.TYPE, "topic": "referral.events.v1", "data": {"to_agency": OUTSIDER}}
    assert involved_agencies([unreadable]) == set()


def test_each_agency_sees_the_case_and_its_own_part_of_it() -> None:
    case = a_case()
    rows = list(case.values())

    def seen(agency: str) -> set[str]:
        shown = {id(row) for row in as_far_as(agency, rows)}
        return {name for name, row in case.items() if id(row) in shown}

    shared = {"received", "proposed", "accepted"}
    # The centre attends the meeting whose plan gives the CSW a role: it sees that plan too.
    assert seen(CENTRE) == shared | {
        "meeting_with_centre",
        "plan_giving_csw_a_role",
        "notified_centre",
        "disclosed_to_centre",
    }
    # The CSW attends one meeting (and its cancellation), and has a role in the other meeting's plan only.
    assert seen(CSW) == shared | {"meeting_with_csw", "csw_meeting_cancelled", "plan_giving_csw_a_role"}
    # The organizer sees both meetings and the plan; nobody sees another's notices, audit queries or dead letters.
    assert seen(COUNTER) == shared | {
        "meeting_with_csw",
        "meeting_with_centre",
        "csw_meeting_cancelled",
        "plan_giving_csw_a_role",
    }


def test_the_history_keeps_the_ledgers_order() -> None:
    rows = list(a_case().values())
    shown = as_far_as(COUNTER, rows)
    assert shown == [row for row in rows if row in shown]
