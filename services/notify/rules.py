"""Who is told what, and when: data and small pure functions.

| event | who | category |
|---|---|---|
| ReferralProposed | the referred agency's primary on call | referral-proposed |
| ReferralEscalated level 1 | the referred agency's supervisor | referral-escalated |
| ReferralEscalated level 2 | the coordinator's primary on call | referral-escalated |
| MeetingScheduled / Rescheduled / Cancelled | each participant's primary, with the .ics | meeting-… |
| SupportPlanConfirmed | each agency with a role | support-plan-confirmed |
| ConsentWithdrawn | each agency holding the case | consent-withdrawn |

Urgent notifications go out at once, day and night; normal ones wait out the quiet hours (Tokyo).
Unacknowledged ones climb: primary → secondary → supervisor → the coordinator.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from backbone.calendar import TOKYO
from schemas.events import (
    ConsentWithdrawn,
    Event,
    MeetingCancelled,
    MeetingRescheduled,
    MeetingScheduled,
    ReferralEscalated,
    ReferralProposed,
    SupportPlanConfirmed,
)
from schemas.vocabulary import Urgency

NEEDS_ACKNOWLEDGEMENT = {"referral-proposed", "referral-escalated"}
LADDER = {"primary": "secondary", "secondary": "supervisor", "supervisor": "coordinator"}


@dataclass(frozen=True)
class Recipient:
    agency: str
    role: str
    category: str


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
    if isinstance(event, ConsentWithdrawn):
        return [Recipient(agency, "primary", "consent-withdrawn") for agency in sorted(case_agencies)]
    return []


def send_at(now: datetime, urgency: Urgency, quiet_start: time, quiet_end: time) -> datetime:
    """Now, unless the notification is not urgent and it is quiet hours in Tokyo: then when they end."""
    if urgency is Urgency.URGENT:
        return now
    local = now.astimezone(TOKYO)
    if quiet_start <= local.time() or local.time() < quiet_end:
        day = local.date() + timedelta(days=1) if local.time() >= quiet_start else local.date()
        return datetime.combine(day, quiet_end, tzinfo=TOKYO)
    return now


def next_rung(role: str) -> str | None:
    return LADDER.get(role)
