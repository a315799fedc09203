"""The law's rules for case meetings, as pure functions.

- 重層的支援会議 (consent-based): held only when the person's consent in force, for the purpose
  `case-meeting`, covers every participating agency; for a household's case, each person's own consent.
- 支援会議 (confidential, 社会福祉法第106条の6): may be held without consent; every participant must be a
  registered member agency, bound by the statutory confidentiality duty; its records go to members only.

RULE (consent withdrawn): a consent-based meeting that has not taken place yet is converted to a 支援会議
when every participant is a member agency (the case still needs its meeting, and the law allows it without
consent), and cancelled otherwise. Either way nothing more is disclosed on the strength of that consent.

RULE (consent recorded): a 支援会議 that has not taken place yet becomes a 重層的支援会議 (purpose ①, the
plan's confirmation) when the new consent covers every participant: the person has agreed, so the case
moves to the meeting that works with them. Nothing else changes; the participants are told.

Plans (支援プラン), by the meeting's purpose:
- 重層的支援会議 ① confirms roles among the agencies that attended;
- 重層的支援会議 ② (参加支援) may also give a `participation` role to a 参加支援 resource (a community place)
  that did not attend, as 社協 connects people to its places, when the person's consent covers it; the
  plan names at least one such role;
- 支援会議 ② decides an outreach plan among its members, with at least one `outreach` role held by
  バックアップふじさわ, バックアップふじさわ社協 or a district CSW;
- 支援会議 ① is a conference and decides no plan.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from backbone.consent import Consent
from backbone.directory import Directory
from schemas.events import (
    PLANNING_PURPOSES,
    ConsentPurpose,
    MeetingKind,
    MeetingPurpose,
    PlanRole,
)


def unknown_agencies(participants: tuple[str, ...], directory: Directory) -> list[str]:
    return [agency for agency in participants if directory.agency(agency) is None]


NOT_COVERED = "the consent of each person the case concerns (purpose case-meeting) does not cover: "


@dataclass(frozen=True)
class CaseConsents:
    """The consents in force of each person the case concerns, one tuple per person. A case meeting speaks of
    all of them (a household's case concerns several: 8050 is a parent and a child), and consent is each person's
    own, so an agency is covered only when every person's consent covers it. Which consents are in force is the
    kit's rule (backbone.consent), applied when the casebook reads them."""

    persons: tuple[tuple[Consent, ...], ...]

    @classmethod
    def of_one(cls, *consents: Consent) -> CaseConsents:
        """A case concerning one person, with these consents in force (none: the person has not consented)."""
        return cls((consents,))


def not_covered_by_consent(participants: tuple[str, ...], consents: CaseConsents, directory: Directory) -> list[str]:
    """The participants that some person's consents in force do not cover for a case meeting (every participant
    when the case concerns nobody the meetings service has heard of yet)."""
    return [
        agency_id
        for agency_id in participants
        if not consents.persons or not all(_covers(own, agency_id, directory) for own in consents.persons)
    ]


def _covers(consents: tuple[Consent, ...], agency_id: str, directory: Directory) -> bool:
    entry = directory.agency(agency_id)
    return entry is not None and any(
        ConsentPurpose.CASE_MEETING in consent.purposes and consent.covers(agency_id, entry.type)
        for consent in consents
    )


def non_members(participants: tuple[str, ...], directory: Directory) -> list[str]:
    return [a for a in participants if (entry := directory.agency(a)) is None or not entry.support_meeting_member]


def problems(
    kind: MeetingKind, participants: tuple[str, ...], consents: CaseConsents, directory: Directory
) -> list[str]:
    """Why a meeting of this kind with these participants would be unlawful; empty when it is lawful."""
    unknown = unknown_agencies(participants, directory)
    if unknown:
        return [f"unknown agencies: {', '.join(unknown)}"]
    if kind is MeetingKind.CONSENT_BASED:
        uncovered = not_covered_by_consent(participants, consents, directory)
        if uncovered:
            return [NOT_COVERED + ", ".join(uncovered)]
        return []
    outsiders = non_members(participants, directory)
    return [f"not members of the 支援会議 (no confidentiality duty): {', '.join(outsiders)}"] if outsiders else []


def lawful_proposal(
    participants: tuple[str, ...], consents: CaseConsents, directory: Directory
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
    kind: MeetingKind, participants: tuple[str, ...], remaining: CaseConsents, directory: Directory
) -> AfterWithdrawal:
    if kind is MeetingKind.CONFIDENTIAL or not not_covered_by_consent(participants, remaining, directory):
        return AfterWithdrawal.KEEP
    return AfterWithdrawal.CANCEL if non_members(participants, directory) else AfterWithdrawal.CONVERT


def converted_purpose(purpose: MeetingPurpose) -> MeetingPurpose:
    """A consent-based meeting converted to a 支援会議 (consent withdrawn) becomes a conference (①)."""
    return purpose if purpose.kind is MeetingKind.CONFIDENTIAL else MeetingPurpose.NO_CONSENT_CONFERENCE


def upgraded(
    kind: MeetingKind, participants: tuple[str, ...], consents: CaseConsents, directory: Directory
) -> MeetingPurpose | None:
    """RULE (consent recorded): the purpose a 支援会議 takes as a 重層的支援会議, or None when it stays."""
    if kind is MeetingKind.CONSENT_BASED or not_covered_by_consent(participants, consents, directory):
        return None
    return MeetingPurpose.PLAN_CONFIRMATION


def review_purpose(planned: MeetingPurpose, kind: MeetingKind) -> MeetingPurpose:
    """A plan's review meeting keeps the purpose that decided the plan when it is of the lawful kind now (the
    consent may have changed since), and takes that kind's ① otherwise."""
    return planned if planned.kind is kind else MeetingPurpose.first_of(kind)


OUTREACH_HOLDERS = "バックアップふじさわ, バックアップふじさわ社協 or a district CSW"


def plan_problems(
    purpose: MeetingPurpose,
    participants: tuple[str, ...],
    roles: tuple[PlanRole, ...],
    consents: CaseConsents,
    directory: Directory,
) -> list[str]:
    """Why a meeting of this purpose cannot decide a plan with these roles; empty when it can."""
    if purpose not in PLANNING_PURPOSES:
        return [
            "a 支援会議 held as a conference (①) decides no plan: request a 支援会議 for an outreach plan (②),"
            " or a 重層的支援会議 once the person consents"
        ]
    unknown = unknown_agencies(tuple(role.agency for role in roles), directory)
    if unknown:
        return [f"unknown agencies: {', '.join(unknown)}"]
    absent = [role for role in roles if role.agency not in participants]
    places = [
        role
        for role in absent
        if purpose is MeetingPurpose.PARTICIPATION_PLAN
        and role.responsibility == "participation"
        and directory.is_place(role.agency)
    ]
    found = []
    outsiders = sorted({role.agency for role in absent if role not in places})
    if outsiders:
        found.append(
            f"plan roles for agencies not in the meeting: {', '.join(outsiders)} (only a 参加支援 plan's"
            " participation roles may name a community place that did not attend)"
        )
    uncovered = not_covered_by_consent(tuple(role.agency for role in places), consents, directory)
    if uncovered:
        found.append(NOT_COVERED + ", ".join(uncovered))
    if purpose is MeetingPurpose.PARTICIPATION_PLAN and not any(
        role.responsibility == "participation" and directory.is_place(role.agency) for role in roles
    ):
        found.append("a 参加支援 plan gives at least one participation role to a 参加支援 resource (a community place)")
    if purpose is MeetingPurpose.OUTREACH_PLAN:
        outreach = [role for role in roles if role.responsibility == "outreach"]
        if not outreach:
            found.append(f"an outreach plan has at least one outreach role, held by {OUTREACH_HOLDERS}")
        elif not all(directory.holds_outreach(role.agency) for role in outreach):
            found.append(f"outreach roles are held by {OUTREACH_HOLDERS}")
    return found
