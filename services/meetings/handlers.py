"""What meetings learns from the other services' events, in the consumer's transaction.

Ordering: intake's events of one person's case arrive in order (keyed by case); ConsentRecorded and
ConsentWithdrawn may interleave with referral's CoordinationRequested from another topic. The rule is
deterministic whatever the interleaving: a proposal uses the consent in force when it is made, a
withdrawal re-checks every future consent-based meeting when it arrives, a new consent every future 支援会議
(which it may move to a 重層的支援会議), and scheduling re-checks the law.
"""

from __future__ import annotations

from datetime import UTC, datetime

from backbone.db import Connection
from backbone.delivery import Handler
from backbone.records import Received
from schemas.events import (
    ConsentRecorded,
    ConsentWithdrawn,
    ConsultationReceived,
    CoordinationRequested,
    MeetingReason,
)
from services.meetings.casebook import Casebook, MeetingRefusedError


def on_consultation(book: Casebook) -> Handler[ConsultationReceived]:
    async def handle(conn: Connection, received: Received[ConsultationReceived]) -> None:
        event = received.event
        store = book.on(conn)
        await store.keep_case(event.case_id, event.person_id, event.district, event.urgency)
        joined = await store.add_member(event.case_id, event.person_id)
        if joined and not event.new_case:  # a household member: the case's meetings now speak of them too
            await book.member_joined(store, event.person_id, datetime.now(UTC))

    return handle


def on_consent_recorded(book: Casebook) -> Handler[ConsentRecorded]:
    async def handle(conn: Connection, received: Received[ConsentRecorded]) -> None:
        event = received.event
        store = book.on(conn)
        await store.keep_consent(event)
        await book.consent_recorded(store, event.person_id, datetime.now(UTC))

    return handle


def on_consent_withdrawn(book: Casebook) -> Handler[ConsentWithdrawn]:
    async def handle(conn: Connection, received: Received[ConsentWithdrawn]) -> None:
        event = received.event
        store = book.on(conn)
        await store.withdraw_consent(event.consent_id, event.withdrawn_at)
        await book.consent_withdrawn(store, event.person_id, datetime.now(UTC))

    return handle


def on_coordination_requested(book: Casebook) -> Handler[CoordinationRequested]:
    async def handle(conn: Connection, received: Received[CoordinationRequested]) -> None:
        event = received.event
        store = book.on(conn)
        try:
            async with store.savepoint():
                await book.propose(
                    store,
                    case_id=event.case_id,
                    organizer=event.coordinator,
                    participants=event.participants,
                    reason=MeetingReason(event.reason),
                    now=datetime.now(UTC),
                )
        except MeetingRefusedError:
            # No lawful meeting can be proposed (no member agency among them): the coordinator convenes one
            # by hand through the API; the case stays visible in referral's coordination queue meanwhile.
            return

    return handle
