"""What notify learns from the other services' events: which agencies hold a case, and who must be told, planned in
the consumer's transaction through the store (`services.notify.store.DeliveryStore`); this module holds no SQL."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from backbone.db import Connection
from backbone.delivery import Handler
from backbone.invitations import Invitation, render
from backbone.records import Received
from schemas.events import (
    CaseEvent,
    MeetingFacts,
    MeetingScheduled,
    ReferralAccepted,
    ReferralEscalated,
    ReferralProposed,
)
from schemas.vocabulary import Urgency
from services.notify import rules
from services.notify.deliveries import Notifier
from services.notify.lifecycle import COORDINATOR


def notifying(notifier: Notifier) -> Handler[Any]:
    """One handler for every event that tells someone something (rules.recipients decides who)."""

    async def handle(conn: Connection, received: Received[CaseEvent]) -> None:
        event = received.event
        store = notifier.on(conn)
        if isinstance(event, ReferralProposed):
            await store.add_case_agency(event.case_id, event.to_agency)
        holders = await store.case_agencies(event.case_id) if rules.needs_case_agencies(event) else frozenset()
        urgency = Urgency(getattr(event, "urgency", Urgency.NORMAL))
        if isinstance(event, ReferralEscalated):
            urgency = Urgency.URGENT  # an escalation is always urgent
        ics = _invitation(notifier, event) if isinstance(event, MeetingFacts) else None
        now = datetime.now(UTC)
        told = rules.recipients(event, case_agencies=holders, coordinator=COORDINATOR)
        for recipient in rules.answered(told, notifier.directory):
            await notifier.plan(
                store,
                cause=received.envelope,
                case_id=event.case_id,
                recipient=recipient,
                urgency=urgency,
                now=now,
                ics=ics,
            )

    return handle


def on_referral_accepted(notifier: Notifier) -> Handler[ReferralAccepted]:
    """The accepting agency holds the case from now on (it is told when consent is withdrawn)."""

    async def handle(conn: Connection, received: Received[ReferralAccepted]) -> None:
        await notifier.on(conn).add_case_agency(received.event.case_id, received.event.agency)

    return handle


def _invitation(notifier: Notifier, event: MeetingFacts) -> str | None:
    """The .ics for a scheduled or changed meeting (a cancellation's message says so in words)."""
    if not isinstance(event, MeetingScheduled):
        return None

    def address(agency: str) -> tuple[str, str]:
        entry = notifier.directory.agency(agency)
        return agency, entry.on_call if entry else f"oncall@{agency}.fujisawa-backbone.invalid"

    return render(
        Invitation(
            meeting_id=event.meeting_id,
            case_id=event.case_id,
            kind=event.kind,
            starts_at=event.starts_at,
            ends_at=event.ends_at,
            sequence=event.sequence,
            organizer=address(event.organizer),
            attendees=tuple(address(a) for a in event.participants),
        )
    )
