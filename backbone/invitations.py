"""Invitations as RFC 5545 iCalendar, which any calendar accepts.

The UID is stable across reschedules and SEQUENCE grows with every change; a cancellation is METHOD:CANCEL
with STATUS:CANCELLED. Times are in Asia/Tokyo with a VTIMEZONE (Japan keeps no daylight saving time).
The case appears only as a short reference, never with personal data; a 支援会議 is CLASS:CONFIDENTIAL.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID

from backbone.calendar import TOKYO
from schemas.events import MeetingKind

KIND_TITLE = {MeetingKind.CONSENT_BASED: "重層的支援会議", MeetingKind.CONFIDENTIAL: "支援会議"}


@dataclass(frozen=True)
class Invitation:
    meeting_id: UUID
    case_id: UUID
    kind: MeetingKind
    starts_at: datetime
    ends_at: datetime
    sequence: int
    organizer: tuple[str, str]  # (agency id, on-call address)
    attendees: tuple[tuple[str, str], ...]
    cancelled: bool = False


def render(invitation: Invitation, *, stamp: datetime | None = None) -> str:
    title = KIND_TITLE[invitation.kind]
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//Fujisawa City//Interagency backbone//JA",
        "CALSCALE:GREGORIAN",
        f"METHOD:{'CANCEL' if invitation.cancelled else 'REQUEST'}",
        "BEGIN:VTIMEZONE",
        "TZID:Asia/Tokyo",
        "BEGIN:STANDARD",
        "DTSTART:19700101T000000",
        "TZOFFSETFROM:+0900",
        "TZOFFSETTO:+0900",
        "TZNAME:JST",
        "END:STANDARD",
        "END:VTIMEZONE",
        "BEGIN:VEVENT",
        f"UID:{invitation.meeting_id}@fujisawa-backbone",
        f"DTSTAMP:{(stamp or datetime.now(UTC)).astimezone(UTC):%Y%m%dT%H%M%SZ}",
        f"DTSTART;TZID=Asia/Tokyo:{invitation.starts_at.astimezone(TOKYO):%Y%m%dT%H%M%S}",
        f"DTEND;TZID=Asia/Tokyo:{invitation.ends_at.astimezone(TOKYO):%Y%m%dT%H%M%S}",
        f"SEQUENCE:{invitation.sequence}",
        _escape(f"SUMMARY:{title} / case meeting (case {str(invitation.case_id)[:8]})"),
        _escape(f"DESCRIPTION:{title}. Case reference {invitation.case_id}. Details through the backbone only."),
        f"STATUS:{'CANCELLED' if invitation.cancelled else 'CONFIRMED'}",
        f"CLASS:{'CONFIDENTIAL' if invitation.kind is MeetingKind.CONFIDENTIAL else 'PRIVATE'}",
        f"ORGANIZER;CN={invitation.organizer[0]}:mailto:{invitation.organizer[1]}",
        *(
            f"ATTENDEE;CN={agency};ROLE=REQ-PARTICIPANT;PARTSTAT=NEEDS-ACTION;RSVP=TRUE:mailto:{address}"
            for agency, address in invitation.attendees
        ),
        "END:VEVENT",
        "END:VCALENDAR",
    ]
    return "".join(_fold(line) + "\r\n" for line in lines)


def _escape(line: str) -> str:
    name, _, value = line.partition(":")
    return f"{name}:" + value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")


def _fold(line: str) -> str:
    """Lines longer than 75 octets are folded (RFC 5545 §3.1), never inside a UTF-8 character."""
    out: list[str] = []
    current = b""
    for char in line:
        encoded = char.encode("utf-8")
        if len(current) + len(encoded) > (75 if not out else 74):
            out.append(current.decode("utf-8"))
            current = b""
        current += encoded
    out.append(current.decode("utf-8"))
    return "\r\n ".join(out)
