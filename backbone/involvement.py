"""Need to know (ARCHITECTURE, invariant 7): which agencies are *involved* in a case, defined once.

An agency is involved in a case when

- it took in one of the case's consultations (`ConsultationReceived.receiving_agency`),
- a referral of the case was addressed to it (`ReferralProposed.to_agency`),
- it leads the case (`CaseLeadAssigned.lead_agency`, 主担当),
- it organises or takes part in one of the case's meetings (`MeetingRequested`, `MeetingScheduled`,
  `MeetingRescheduled`: organizer and participants),
- it holds or partners an outreach engagement of the case (`OutreachStarted`: holder and partner),
- or it is one of the programme's coordinators (the directory's `coordinator = true`, 多機関協働):
  the city-wide hub that receives every case's level-2 escalations, and so is involved in all of them.

Only involved agencies read a case's referrals, notifications, meetings and personal data (the last
under consent as well). Which agencies touch a case is itself sensitive — a referral to a mental-health
service says something about the person — so a refusal is the same whether the case exists or not.

Every service keeps the same projection, `case_involvement` in its own database (a kit migration),
written in the transaction of the change: by `Outbox.add` for the events the service publishes and by
the subscription for the events it consumes (before the handler, in the inbox transaction; events of a
type the service has no handler for are still claimed and recorded when they involve someone). So each
service answers "is this agency involved?" from its own data, and no service reads another's tables.
Involvement is never withdrawn: an agency that once held a case keeps its history of it (a declined
referral's agency included), since it may have to account for what it did.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import StrEnum
from uuid import UUID

from backbone.db import Connection
from schemas.events import (
    CaseEvent,
    CaseLeadAssigned,
    ConsultationReceived,
    Event,
    MeetingFacts,
    MeetingRequested,
    MeetingRescheduled,
    MeetingScheduled,
    OutreachStarted,
    ReferralProposed,
)

INVOLVING: tuple[type[Event], ...] = (
    ConsultationReceived,
    ReferralProposed,
    CaseLeadAssigned,
    MeetingRequested,
    MeetingScheduled,
    MeetingRescheduled,
    OutreachStarted,
)
"""The event types that involve agencies: a service subscribed to their topic consumes them all."""


class Role(StrEnum):
    """Why an agency is involved (kept with the row, for the audit of who could read what)."""

    RECEIVED = "received"  # took in a consultation
    REFERRED = "referred"  # a referral was addressed to it
    LEAD = "lead"  # 主担当
    MEETING = "meeting"  # organises or takes part in a meeting
    OUTREACH = "outreach"  # holds or partners an outreach engagement


def involved_by(event: Event) -> tuple[tuple[str, Role], ...]:
    """The agencies `event` involves in its case, and why; empty for an event that involves nobody new."""
    match event:
        case ConsultationReceived():
            return ((event.receiving_agency, Role.RECEIVED),)
        case ReferralProposed():
            return ((event.to_agency, Role.REFERRED),)
        case CaseLeadAssigned():
            return ((event.lead_agency, Role.LEAD),)
        case MeetingRequested() | MeetingScheduled():  # MeetingRescheduled is a MeetingScheduled
            return tuple((agency, Role.MEETING) for agency in _meeting_agencies(event))
        case OutreachStarted():
            workers = (event.holder, event.partner) if event.partner else (event.holder,)
            return tuple((agency, Role.OUTREACH) for agency in workers)
    return ()


def involves(event: Event) -> bool:
    return bool(involved_by(event))


def _meeting_agencies(event: MeetingFacts) -> tuple[str, ...]:
    return tuple(dict.fromkeys((event.organizer, *event.participants)))


async def record(conn: Connection, event: Event, *, along: tuple[str, Sequence[object]] | None = None) -> None:
    """Record whom `event` involves in its case, in the caller's transaction (idempotent).

    `along` is a statement of the caller's and its arguments, run in the same round trip (the outbox's insert of
    the event, so that publishing an event that involves someone costs one round trip, not two).
    """
    statement, arguments = along if along is not None else ("", ())
    involved = involved_by(event)
    if not involved or not isinstance(event, CaseEvent):
        if statement:
            await conn.execute(statement, *arguments)
        return
    first = len(arguments) + 1
    recording = (
        "INSERT INTO case_involvement (case_id, agency_id, role)"  # noqa: S608 - only placeholder numbers are formatted in
        f" SELECT ${first}, agency, role FROM unnest(${first + 1}::text[], ${first + 2}::text[]) AS i(agency, role)"
        " ON CONFLICT DO NOTHING"
    )
    await conn.execute(
        f"WITH along AS ({statement}) {recording}" if statement else recording,
        *arguments,
        event.case_id,
        [agency for agency, _ in involved],
        [str(role) for _, role in involved],
    )


class Involvement:
    """Answers whether an agency is involved in a case, from this service's `case_involvement`."""

    def __init__(self, coordinators: Iterable[str]) -> None:
        self.coordinators = frozenset(coordinators)

    def is_coordinator(self, agency_id: str) -> bool:
        return agency_id in self.coordinators

    async def is_involved(self, conn: Connection, case_id: UUID, agency_id: str) -> bool:
        if self.is_coordinator(agency_id):
            return True
        found = await conn.fetchval(
            "SELECT true FROM case_involvement WHERE case_id = $1 AND agency_id = $2 LIMIT 1", case_id, agency_id
        )
        return bool(found)

    async def cases_of(self, conn: Connection, agency_id: str, case_ids: Iterable[UUID]) -> set[UUID]:
        """Which of `case_ids` the agency is involved in."""
        wanted = list(dict.fromkeys(case_ids))
        if self.is_coordinator(agency_id):
            return set(wanted)
        rows = await conn.fetch(
            "SELECT DISTINCT case_id FROM case_involvement WHERE case_id = ANY($1::uuid[]) AND agency_id = $2",
            wanted,
            agency_id,
        )
        return {row["case_id"] for row in rows}
