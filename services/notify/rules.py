"""Who is told what, and when: data and small pure functions.

| event | who | category |
|---|---|---|
| ReferralProposed | the referred agency's primary on call | referral-proposed |
| ReferralEscalated level 1 | the referred agency's supervisor | referral-escalated |
| ReferralEscalated level 2 | the coordinator's primary on call | referral-escalated |
| MeetingScheduled / Rescheduled / Cancelled | each participant's primary, with the .ics | meeting-… |
| SupportPlanConfirmed | each agency with a role | support-plan-confirmed |
| SupportPlanReviewOpened | the plan's organizer (its coordinator) | support-plan-review-opened |
| ConsentWithdrawn | each agency holding the case | consent-withdrawn |

A community place that another agency answers for (the directory's `answered_by`: バックアップふじさわ社協 for
the 縁側) has no system and no on-call of its own: what it would be told goes to the answering agency.

Urgent notifications go out at once, day and night; normal ones wait out the quiet hours (Tokyo).
Unacknowledged ones climb: primary → secondary → supervisor → the coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from backbone.calendar import TOKYO
from backbone.directory import Directory
from schemas.events import (
    ConsentWithdrawn,
    Event,
    MeetingCancelled,
    MeetingRescheduled,
    MeetingScheduled,
    ReferralEscalated,
    ReferralProposed,
    SupportPlanConfirmed,
    SupportPlanReviewOpened,
)
from schemas.vocabulary import Urgency

NEEDS_ACKNOWLEDGEMENT = {"referral-proposed", "referral-escalated"}
LADDER = {"primary": "secondary", "secondary": "supervisor", "supervisor": "coordinator"}


@dataclass(frozen=True)
class Recipient:
    agency: str
    role: str
    category: str


def needs_case_agencies(event: Event) -> bool:
    """Whether `recipients` reads the agencies that hold the case for this event (only a withdrawal of consent
    does): the caller reads them, a round trip, only then."""
    return isinstance(event, ConsentWithdrawn)


def recipients(event: Event, *, case_agencies: frozenset[str], coordinator: str) -> list[Recipient]:  # noqa: PLR0911 - the table above
    if isinstance(event, ReferralProposed):
        return [Recipient(event.to_agency, "primary", "referral-proposed")]
    if isinstance(event, ReferralEscalated):
        if event.level == 1:
            return [Recipient(event.to_agency, "supervisor", "referral-escalated")]
        return [Recipient(coordinator, "primary", "referral-escalated")]
    if isinstance(event, MeetingCancelled):
        return [Recipient(agency, "primary", "meeting-cancelled") for agency in event.participants]
    if isinstance(event, MeetingRescheduled):
        return [Recipient(agency, "primary", "meeting-changed") for agency in event.participants]
    if isinstance(event, MeetingScheduled):
        return [Recipient(agency, "primary", "meeting-scheduled") for agency in event.participants]
    if isinstance(event, SupportPlanConfirmed):
        return [
            Recipient(agency, "primary", "support-plan-confirmed")
            for agency in dict.fromkeys(role.agency for role in event.roles)
        ]
    if isinstance(event, SupportPlanReviewOpened):
        return [Recipient(event.organizer, "primary", "support-plan-review-opened")]
    if isinstance(event, ConsentWithdrawn):
        return [Recipient(agency, "primary", "consent-withdrawn") for agency in sorted(case_agencies)]
    return []


def answered(recipients: list[Recipient], directory: Directory) -> list[Recipient]:
    """Each recipient, or the agency that answers for it; told once even when it answers for several."""
    told = []
    for recipient in recipients:
        entry = directory.agency(recipient.agency)
        agency = entry.answered_by if entry is not None and entry.answered_by else recipient.agency
        told.append(Recipient(agency, recipient.role, recipient.category))
    return list(dict.fromkeys(told))


def send_at(now: datetime, urgency: Urgency, quiet_start: time, quiet_end: time) -> datetime:
    """Now, unless the notification is not urgent and it is quiet hours in Tokyo: then when they end.

    The quiet hours run from `quiet_start` to `quiet_end` and may span midnight (20:00-08:00, the
    default); equal times mean there are none, for installations whose staff want every notification
    at once.
    """
    local = now.astimezone(TOKYO)
    if urgency is Urgency.URGENT or not _quiet(local.time(), quiet_start, quiet_end):
        return now
    ends = datetime.combine(local.date(), quiet_end, tzinfo=TOKYO)
    return ends if ends > local else ends + timedelta(days=1)


def _quiet(moment: time, start: time, end: time) -> bool:
    if start <= end:
        return start <= moment < end  # empty when start == end
    return moment >= start or moment < end  # spans midnight


def next_rung(role: str) -> str | None:
    return LADDER.get(role)
