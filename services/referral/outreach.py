"""アウトリーチ等を通じた継続的支援: an outreach engagement's lifecycle, as pure rules (no I/O).

    attempting ──contact──▶ in-contact ──consent──▶ consented ──end (handed-over)──▶ ended
        │  ▲ attempt            │ attempt                │
        └──┴──────end (any other reason: no-longer-needed, moved-away, other)──────▶ ended

Contact attempts are recorded in every open state (outreach may go on for months, and a person reached once
may not answer the next time). The handover to a plan needs the person's consent; any other ending may
come at any time. Who works it: the holder (バックアップふじさわ, 社協 or the district CSW), its partner, or any
coordinator agency.

A case under outreach is not orphaned: it has its workers. It is at risk when no contact attempt was recorded
for `ReferralPolicy.outreach_quiet_business_days`.
"""

from __future__ import annotations

from enum import StrEnum

from backbone.directory import Directory
from schemas.events import OutreachEnding
from schemas.vocabulary import AgencyType, District


class State(StrEnum):
    ATTEMPTING = "attempting"
    IN_CONTACT = "in-contact"
    CONSENTED = "consented"
    ENDED = "ended"


class Step(StrEnum):
    ATTEMPT = "attempt"
    CONTACT = "contact"
    CONSENT = "consent"
    END = "end"


OPEN = frozenset({State.ATTEMPTING, State.IN_CONTACT, State.CONSENTED})


class OutreachRefusedError(Exception):
    """The step does not fit the engagement's state; the message says what to do instead."""


def after(state: State, step: Step, ending: OutreachEnding | None = None) -> State:
    """The state the step leads to. Raises OutreachRefusedError with what to do instead."""
    if state is State.ENDED:
        raise OutreachRefusedError("the engagement has ended; start a new one if outreach begins again")
    if step is Step.ATTEMPT:
        return state
    if step is Step.CONTACT:
        if state is not State.ATTEMPTING:
            raise OutreachRefusedError("contact was recorded already; record further attempts, or the consent")
        return State.IN_CONTACT
    if step is Step.CONSENT:
        if state is not State.IN_CONTACT:
            raise OutreachRefusedError(
                "record the contact first" if state is State.ATTEMPTING else "the consent was recorded already"
            )
        return State.CONSENTED
    if ending is OutreachEnding.HANDED_OVER and state is not State.CONSENTED:
        raise OutreachRefusedError("a handover to a plan needs the person's consent: record it first")
    return State.ENDED


def may_work(agency_id: str, *, holder: str, partner: str | None, directory: Directory) -> bool:
    entry = directory.agency(agency_id)
    return agency_id in {holder, partner} or (entry is not None and entry.coordinator)


def may_hold(agency_id: str, directory: Directory) -> bool:
    """Who holds outreach: the coordinators (バックアップふじさわ, バックアップふじさわ社協) and the district CSWs."""
    return directory.holds_outreach(agency_id)


def partner_of(holder: str, district: District, directory: Directory, *, coordinator: str) -> str | None:
    """The holder's partner: the district CSW when a coordinator holds it, else `coordinator` (the CSW holds it
    with バックアップふじさわ or 社協)."""
    entry = directory.agency(holder)
    if entry is not None and entry.type is AgencyType.DISTRICT_CSW:
        return coordinator if coordinator != holder else None
    csw = directory.csw(district)
    return csw.id if csw is not None and csw.id != holder else None
