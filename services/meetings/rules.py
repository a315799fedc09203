"""The law's rules for case meetings, as pure functions.

- 重層的支援会議 (consent-based): held only when the person's consent in force, for the purpose
  `case-meeting`, covers every participating agency.
- 支援会議 (confidential, 社会福祉法第106条の6): may be held without consent; every participant must be a
  registered member agency, bound by the statutory confidentiality duty; its records go to members only.

RULE (consent withdrawn): a consent-based meeting that has not taken place yet is converted to a 支援会議
when every participant is a member agency (the case still needs its meeting, and the law allows it without
consent), and cancelled otherwise. Either way nothing more is disclosed on the strength of that consent.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backbone.directory import Directory
from schemas.events import ConsentPurpose, ConsentScope, MeetingKind


@dataclass(frozen=True)
class Consent:
    """A consent in force, as the meetings service learned it from intake's events."""

    scope: ConsentScope
    purposes: frozenset[ConsentPurpose]


def unknown_agencies(participants: tuple[str, ...], directory: Directory) -> list[str]:
    return [agency for agency in participants if directory.agency(agency) is None]


def not_covered_by_consent(participants: tuple[str, ...], consents: list[Consent], directory: Directory) -> list[str]:
    """The participants that no consent in force covers for a case meeting."""
    meeting_consents = [c.scope for c in consents if ConsentPurpose.CASE_MEETING in c.purposes]
    uncovered = []
    for agency_id in participants:
        entry = directory.agency(agency_id)
        covered = entry is not None and any(
            scope.all_programme_agencies or agency_id in scope.agencies or entry.type in scope.agency_types
            for scope in meeting_consents
        )
        if not covered:
            uncovered.append(agency_id)
    return uncovered


def non_members(participants: tuple[str, ...], directory: Directory) -> list[str]:
    return [a for a in participants if (entry := directory.agency(a)) is None or not entry.support_meeting_member]


def problems(
    kind: MeetingKind, participants: tuple[str, ...], consents: list[Consent], directory: Directory
) -> list[str]:
    """Why a meeting of this kind with these participants would be unlawful; empty when it is lawful."""
    unknown = unknown_agencies(participants, directory)
    if unknown:
        return [f"unknown agencies: {', '.join(unknown)}"]
    if kind is MeetingKind.CONSENT_BASED:
        uncovered = not_covered_by_consent(participants, consents, directory)
        if uncovered:
            return [f"the person's consent (purpose case-meeting) does not cover: {', '.join(uncovered)}"]
        return []
    outsiders = non_members(participants, directory)
    return [f"not members of the 支援会議 (no confidentiality duty): {', '.join(outsiders)}"] if outsiders else []


def lawful_proposal(
    participants: tuple[str, ...], consents: list[Consent], directory: Directory
) -> tuple[MeetingKind, tuple[str, ...]]:
    """For a meeting the backbone proposes: consent-based when consent covers everyone; otherwise a
    支援会議 of the member agencies among the participants."""
    known = tuple(a for a in participants if directory.agency(a) is not None)
    if not not_covered_by_consent(known, consents, directory):
        return MeetingKind.CONSENT_BASED, known
    return MeetingKind.CONFIDENTIAL, tuple(a for a in known if a not in non_members(known, directory))


class AfterWithdrawal(StrEnum):
    KEEP = "keep"
    CONVERT = "convert"
    CANCEL = "cancel"


def after_withdrawal(
    kind: MeetingKind, participants: tuple[str, ...], remaining: list[Consent], directory: Directory
) -> AfterWithdrawal:
    if kind is MeetingKind.CONFIDENTIAL or not not_covered_by_consent(participants, remaining, directory):
        return AfterWithdrawal.KEEP
    return AfterWithdrawal.CANCEL if non_members(participants, directory) else AfterWithdrawal.CONVERT
