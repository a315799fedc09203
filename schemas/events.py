"""Event types of the backbone, versioned and in the past tense.

A change inside a version may only add optional fields; anything else is a new type published side by
side (`...v2`). The record key keeps related events in order within a partition: for events of a case
it is the case id.

No field carries free text an agency wrote (invariant 3): where an agency explains itself it sends a
reason code, published here, and may add a short note, which stays in the database of the service it
sent it to, where it can be erased. tests/unit/schemas/test_free_text.py holds every `str` field to that.

Before the first release, v1 was changed once in a way that is not only additive: the decline note was
removed from ReferralDeclined, and the free-text reasons of ReferralCancelled, MeetingRequested and
MeetingCancelled became the codes ReferralCancelReason, MeetingReason and MeetingCancelReason.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any, ClassVar, Literal, Self
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from schemas.topics import (
    INTAKE_EVENTS,
    INTAKE_SUBMISSIONS,
    MEETINGS_EVENTS,
    NOTIFY_EVENTS,
    REFERRAL_EVENTS,
    TopicSpec,
)
from schemas.vocabulary import AgencyType, Channel, ConsultedBy, District, SupportDomain, Urgency

TYPE_PREFIX = "jp.fujisawa.welfare."

AGENCY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"

AgencyId = Annotated[str, Field(pattern=AGENCY_ID_PATTERN)]
"""A directory id such as `ikiiki-katase` or `csw-katase`: an id, never a name typed by someone."""

STAFF_SUBJECT_PATTERN = r"^[A-Za-z0-9_.:|-]{1,255}$"

StaffSubject = Annotated[str, Field(pattern=STAFF_SUBJECT_PATTERN)]
"""A staff member as the identity provider names them (the OIDC `sub`): an opaque id, never a name or an
e-mail address. Who, of an agency's people, took an action through the workbench."""


def _by_staff() -> Any:
    return Field(
        default=None,
        description="The staff member who acted, signed in through the identity provider (an opaque subject id); "
        "absent when the agency's system or the backbone itself acted",
    )


class Event(BaseModel):
    """Base of every event body. Subclasses set TYPE and TOPIC and say what keys their records."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    TOPIC: ClassVar[TopicSpec]

    @classmethod
    def dataschema(cls) -> str:
        return f"urn:jp:fujisawa:welfare:schema:{cls.TYPE.removeprefix(TYPE_PREFIX)}"

    def record_key(self) -> str:
        """The Kafka record key and CloudEvents `correlationid`: events with one key stay in order."""
        raise NotImplementedError

    def subject(self) -> str:
        """The CloudEvents `subject`."""
        raise NotImplementedError


class CaseEvent(Event):
    """An event about one case: keyed by the case id."""

    case_id: UUID = Field(description="The case this event belongs to; also the Kafka record key")

    def record_key(self) -> str:
        return str(self.case_id)

    def subject(self) -> str:
        return f"case/{self.case_id}"


class ConsentPurpose(StrEnum):
    """What the person agreed their data may be used for."""

    SUPPORT = "support"  # 相談支援・支援調整
    REFERRAL = "referral"  # 関係機関へのつなぎ
    CASE_MEETING = "case-meeting"  # 重層的支援会議での共有


class ConsentMethod(StrEnum):
    WRITTEN = "written"  # 書面
    VERBAL = "verbal"  # 口頭 (recorded by the staff member)
    ELECTRONIC = "electronic"  # 電子


class ConsentScope(BaseModel):
    """本人同意: to whom the person has agreed their personal data may be disclosed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    all_programme_agencies: bool = Field(
        default=False, description="Consent covers every agency of the multi-layered support programme"
    )
    agencies: tuple[AgencyId, ...] = Field(default=(), max_length=50, description="Agencies named in the consent")
    agency_types: tuple[AgencyType, ...] = Field(default=(), description="Kinds of agency named in the consent")


class ConsultationReceived(CaseEvent):
    """相談受付: an agency has taken in a consultation. Carries no personal data."""

    TYPE = TYPE_PREFIX + "intake.consultation.received.v1"
    TOPIC = INTAKE_EVENTS

    consultation_id: UUID
    person_id: UUID = Field(description="intake's opaque id of the person; personal data is read through intake's API")
    receiving_agency: AgencyId
    channel: Channel
    district: District
    domains: tuple[SupportDomain, ...] = Field(min_length=1)
    urgency: Urgency
    subject_ref: str | None = Field(
        default=None,
        description="Keyed hash of the person's normalised identity; absent for anonymous consultations",
    )
    consent: ConsentScope = Field(default=ConsentScope(), description="The consent in force when it was received")
    new_case: bool = Field(
        default=True, description="False when the consultation joined an open case: the person's, or their household's"
    )
    consulted_by: ConsultedBy = Field(
        default=ConsultedBy.PERSON, description="相談者: who brought it (the person concerned, family, a supporter)"
    )
    household_id: UUID | None = Field(
        default=None,
        description="世帯: intake's opaque id of the person's household, when the consultation named one; the case"
        " is then the household's, and routing and meetings see its members' needs together",
    )
    received_at: AwareDatetime
    by_staff: StaffSubject | None = _by_staff()


class ConsentRecorded(CaseEvent):
    """本人同意の記録: the person agreed to share their data with the agencies in `scope`."""

    TYPE = TYPE_PREFIX + "intake.consent.recorded.v1"
    TOPIC = INTAKE_EVENTS

    consent_id: UUID
    person_id: UUID
    scope: ConsentScope
    purposes: tuple[ConsentPurpose, ...] = Field(min_length=1)
    method: ConsentMethod
    obtained_by: AgencyId
    given_at: AwareDatetime
    by_staff: StaffSubject | None = _by_staff()
    valid_until: AwareDatetime | None = None


class ConsentWithdrawn(CaseEvent):
    """同意の撤回: from now on nothing more is disclosed on the strength of this consent."""

    TYPE = TYPE_PREFIX + "intake.consent.withdrawn.v1"
    TOPIC = INTAKE_EVENTS

    consent_id: UUID
    person_id: UUID
    withdrawn_by: AgencyId
    withdrawn_at: AwareDatetime
    by_staff: StaffSubject | None = _by_staff()


class PersonalDataDisclosed(Event):
    """個人情報の開示: an agency asked to read a person's data, and was shown it or refused."""

    TYPE = TYPE_PREFIX + "intake.personal-data.disclosed.v1"
    TOPIC = INTAKE_EVENTS

    disclosure_id: UUID
    person_id: UUID = Field(description="The person asked for (it may not exist: a refusal never says)")
    case_id: UUID | None = Field(default=None, description="The person's latest case, when the read was allowed")
    requesting_agency: AgencyId
    outcome: Literal["allowed", "denied"]
    basis: Literal["consent", "none"]
    consent_id: UUID | None = None
    decided_at: AwareDatetime

    def record_key(self) -> str:
        # Keyed by the person, allowed or not, so that every request about one person stays in order.
        return str(self.person_id)

    def subject(self) -> str:
        return f"person/{self.person_id}"


class RejectionReason(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(description="Where the problem is, e.g. body.district; empty for the record as a whole")
    message: str


class IngressRejection(Event):
    """An agency's ingress record was refused: addressed (and keyed) to that agency, with the reasons."""

    agency: AgencyId
    reasons: tuple[RejectionReason, ...] = Field(min_length=1)
    rejected_at: AwareDatetime

    def record_key(self) -> str:
        return self.agency

    def subject(self) -> str:
        return f"agency/{self.agency}"


class SubmissionRejected(IngressRejection):
    """A submission on the ingress topic was refused."""

    TYPE = TYPE_PREFIX + "intake.submission.rejected.v1"
    TOPIC = INTAKE_EVENTS

    submission_id: str = Field(description="The `ce_id` of the refused ingress record")


class ReferralProposed(CaseEvent):
    """つなぐ: the referral service proposes that an agency take the case."""

    TYPE = TYPE_PREFIX + "referral.referral.proposed.v1"
    TOPIC = REFERRAL_EVENTS

    referral_id: UUID
    consultation_id: UUID
    from_agency: AgencyId
    to_agency: AgencyId
    district: District
    domains: tuple[SupportDomain, ...] = Field(min_length=1)
    urgency: Urgency
    routing_rule: str = Field(description="Which routing rule chose the agency, for the audit trail")
    respond_by: AwareDatetime
    reason: str = Field(default="", description="Why this agency, in words")
    attempt: int = Field(default=1, ge=1, description="1 for the first proposal; +1 after each decline")
    waitlisted: bool = Field(default=False, description="The agency has a waiting list (capacity: waitlist)")
    person_id: UUID | None = Field(
        default=None,
        description="Whom the referral is about (intake's opaque id): the consultation's person, one of a household's"
        " case; absent for a support plan's roles, which are about the case",
    )


class ReferralAction(CaseEvent):
    """What every step of a referral's lifecycle says: which referral, who acted, when."""

    referral_id: UUID
    agency: AgencyId = Field(description="The agency that acted")
    at: AwareDatetime
    by_staff: StaffSubject | None = _by_staff()
    on_behalf_of: AgencyId | None = Field(
        default=None,
        description="The community place without a system of its own that the acting agency answered for (the"
        " referral's to_agency; the directory's answered_by); absent when the referred agency acted itself",
    )


class ReferralAccepted(ReferralAction):
    """The agency takes the case (FHIR Task: accepted)."""

    TYPE = TYPE_PREFIX + "referral.referral.accepted.v1"
    TOPIC = REFERRAL_EVENTS


class ReferralStarted(ReferralAction):
    """Support has begun (FHIR Task: in-progress)."""

    TYPE = TYPE_PREFIX + "referral.referral.started.v1"
    TOPIC = REFERRAL_EVENTS


class ReasonCode(StrEnum):
    """A reason as a code: what is published when an agency explains itself (its words stay home)."""

    @property
    def japanese(self) -> str:
        return _REASONS_JA[type(self)][self]


class DeclineReason(ReasonCode):
    """辞退の理由: why the referred agency cannot take the case."""

    NO_CAPACITY = "no-capacity"
    OUTSIDE_AREA = "outside-area"
    NOT_ELIGIBLE = "not-eligible"
    OTHER = "other"


class ReferralCancelReason(ReasonCode):
    """取消の理由: why the referring agency (or a coordinator) withdrew a referral."""

    NO_LONGER_NEEDED = "no-longer-needed"
    PERSON_DECLINED = "person-declined"
    DUPLICATE = "duplicate"
    SENT_IN_ERROR = "sent-in-error"
    OTHER = "other"


class ReferralDeclined(ReferralAction):
    """The agency cannot take the case; the next candidate is proposed (never the same agency again).

    The agency's note, if it wrote one, stays with the referral in the referral service."""

    TYPE = TYPE_PREFIX + "referral.referral.declined.v1"
    TOPIC = REFERRAL_EVENTS

    reason: DeclineReason = Field(description="Why, as a code; any words stay in the referral service")


class ReferralDeclinedV2(CaseEvent):
    """The agency the referral was to cannot take the case; the next candidate is proposed (never the same agency
    again).

    Version 2 of referral.referral.declined. In version 1 `agency` is the agency that acted, which for a community
    place is the coordinator that answers for it, so a reader counting declines per agency counted the place's under
    its coordinator. Here `agency` is always the agency the referral was to, and `answered_by` the one that acted
    for it. Both versions are published for a deprecation window (docs/runbook.md, "Changing a contract"); a v1
    record is read as v2 with `from_v1`. The agency's note, if it wrote one, stays in the referral service."""

    TYPE = TYPE_PREFIX + "referral.referral.declined.v2"
    TOPIC = REFERRAL_EVENTS

    referral_id: UUID
    agency: AgencyId = Field(description="The agency the referral was to, whose answer this is")
    answered_by: AgencyId | None = Field(
        default=None,
        description="The agency that answered for it (a community place's coordinator, the directory's answered_by);"
        " absent when the agency itself answered",
    )
    at: AwareDatetime
    by_staff: StaffSubject | None = _by_staff()
    reason: DeclineReason = Field(description="Why, as a code; any words stay in the referral service")

    @classmethod
    def from_v1(cls, v1: ReferralDeclined) -> ReferralDeclinedV2:
        """A version 1 record as version 2 says it: the same decline, the agencies in their new places."""
        return cls(
            case_id=v1.case_id,
            referral_id=v1.referral_id,
            agency=v1.on_behalf_of or v1.agency,
            answered_by=v1.agency if v1.on_behalf_of else None,
            at=v1.at,
            by_staff=v1.by_staff,
            reason=v1.reason,
        )


class ReferralCancelled(ReferralAction):
    """The referral is withdrawn by the side that made it, or by the coordinator.

    The agency's note, if it wrote one, stays with the referral in the referral service."""

    TYPE = TYPE_PREFIX + "referral.referral.cancelled.v1"
    TOPIC = REFERRAL_EVENTS

    reason: ReferralCancelReason = Field(description="Why, as a code; any words stay in the referral service")


class ReferralOutcome(StrEnum):
    """How support ended: the one list the API, the ingress topic and the event share."""

    RESOLVED = "resolved"
    TRANSFERRED = "transferred"
    ONGOING_ELSEWHERE = "ongoing-elsewhere"
    ENDED_BY_PERSON = "ended-by-person"
    OTHER = "other"


class ReferralCompleted(ReferralAction):
    """Support ended (FHIR Task: completed), with its outcome."""

    TYPE = TYPE_PREFIX + "referral.referral.completed.v1"
    TOPIC = REFERRAL_EVENTS

    outcome: ReferralOutcome


class ReferralOverdue(CaseEvent):
    """The agency did not answer by the deadline."""

    TYPE = TYPE_PREFIX + "referral.referral.overdue.v1"
    TOPIC = REFERRAL_EVENTS

    referral_id: UUID
    to_agency: AgencyId
    respond_by: AwareDatetime
    detected_at: AwareDatetime


class ReferralEscalated(CaseEvent):
    """An unanswered referral climbs: level 1 to the agency's supervisor, level 2 to the coordinator."""

    TYPE = TYPE_PREFIX + "referral.referral.escalated.v1"
    TOPIC = REFERRAL_EVENTS

    referral_id: UUID
    level: int = Field(ge=1, le=2)
    to_agency: AgencyId = Field(
        description="Whose people are told: the referred agency (its supervisor) or the coordinator"
    )
    role: Literal["supervisor", "coordinator"]
    escalated_at: AwareDatetime


class OutreachMethod(StrEnum):
    """How a contact was attempted (アウトリーチ): a code, never the words of what happened."""

    VISIT = "visit"  # 訪問
    PHONE = "phone"  # 電話
    LETTER = "letter"  # 手紙・置き手紙
    VIA_FAMILY = "via-family"  # 家族を通じて
    VIA_SUPPORTER = "via-supporter"  # 民生委員など支援者を通じて
    OTHER = "other"


class OutreachResult(StrEnum):
    """What an attempt came to, as a code."""

    NO_ANSWER = "no-answer"  # 応答なし
    LEFT_WORD = "left-word"  # 手紙・伝言を残した
    DECLINED = "declined"  # 会うことを断られた
    BRIEF_CONTACT = "brief-contact"  # 短い接触ができた


class OutreachEnding(ReasonCode):
    """How an outreach engagement ended: handed over to a plan, or closed for a reason."""

    HANDED_OVER = "handed-over"
    NO_LONGER_NEEDED = "no-longer-needed"
    MOVED_AWAY = "moved-away"
    OTHER = "other"


class OutreachFacts(CaseEvent):
    """What every event of an outreach engagement (アウトリーチ等を通じた継続的支援) says: which, held by whom."""

    outreach_id: UUID
    holder: AgencyId = Field(description="The agency that holds the engagement: バックアップふじさわ, 社協 or a CSW")
    partner: AgencyId | None = Field(description="The agency that works it with the holder (the district CSW)")
    by_staff: StaffSubject | None = _by_staff()


class OutreachStarted(OutreachFacts):
    """An outreach engagement began: from an outreach plan's role, or opened by its holder."""

    TYPE = TYPE_PREFIX + "referral.outreach.started.v1"
    TOPIC = REFERRAL_EVENTS

    plan_id: UUID | None = Field(description="The outreach plan (支援会議 ②) it came from; null when opened by hand")
    started_at: AwareDatetime


class OutreachContactAttempted(OutreachFacts):
    """A contact was attempted: how, and what it came to, as codes (the worker's words stay in referral)."""

    TYPE = TYPE_PREFIX + "referral.outreach.contact-attempted.v1"
    TOPIC = REFERRAL_EVENTS

    method: OutreachMethod
    result: OutreachResult
    attempted_at: AwareDatetime
    attempt: int = Field(ge=1, description="1 for the first attempt of the engagement, +1 for each after")


class OutreachContactMade(OutreachFacts):
    """The person was reached: the worker and the person met or talked."""

    TYPE = TYPE_PREFIX + "referral.outreach.contact-made.v1"
    TOPIC = REFERRAL_EVENTS

    made_at: AwareDatetime


class OutreachConsentObtained(OutreachFacts):
    """The person consented to support (recorded with intake as ConsentRecorded, which says to whom)."""

    TYPE = TYPE_PREFIX + "referral.outreach.consent-obtained.v1"
    TOPIC = REFERRAL_EVENTS

    obtained_at: AwareDatetime


class OutreachEnded(OutreachFacts):
    """The engagement ended: handed over to a plan (after consent), or closed with a reason."""

    TYPE = TYPE_PREFIX + "referral.outreach.ended.v1"
    TOPIC = REFERRAL_EVENTS

    ending: OutreachEnding
    ended_at: AwareDatetime


class CaseLeadAssigned(CaseEvent):
    """主担当: the case has its lead agency."""

    TYPE = TYPE_PREFIX + "referral.case.lead-assigned.v1"
    TOPIC = REFERRAL_EVENTS

    lead_agency: AgencyId
    referral_id: UUID
    assigned_at: AwareDatetime


class CoordinationRequested(CaseEvent):
    """多機関協働: the case needs several agencies around one table; the meetings service convenes them."""

    TYPE = TYPE_PREFIX + "referral.coordination.requested.v1"
    TOPIC = REFERRAL_EVENTS

    district: District
    domains: tuple[SupportDomain, ...] = Field(min_length=1)
    urgency: Urgency
    coordinator: AgencyId
    participants: tuple[AgencyId, ...] = Field(
        description="Proposed: the lead candidate, the district CSW, domain agencies"
    )
    reason: Literal["multi-domain", "coordination-theme", "household", "no-agency-accepted", "escalated"] = Field(
        description="household: the needs of a household's members together call for coordination (世帯の複合課題)"
    )
    requested_at: AwareDatetime


class ReferralActionRejected(IngressRejection):
    """An agency's action on a referral, sent on the ingress topic, was refused."""

    TYPE = TYPE_PREFIX + "referral.action.rejected.v1"
    TOPIC = REFERRAL_EVENTS

    action_id: str = Field(description="The `ce_id` of the refused ingress record")


class MeetingKind(StrEnum):
    """The two kinds of case meeting the law provides for."""

    CONSENT_BASED = "consent-based"  # 重層的支援会議: needs the person's consent covering every participant
    CONFIDENTIAL = "confidential"  # 支援会議 (社会福祉法第106条の6): members under the confidentiality duty only


class MeetingPurpose(StrEnum):
    """会議の目的: what a meeting is for, as the city defines the two kinds (seed, 重層的支援会議と支援会議).

    Each kind has two purposes, ① and ②; `KIND_OF_PURPOSE` says which. The city reports its 実績 by both.
    """

    PLAN_CONFIRMATION = "plan-confirmation"  # 重層的支援会議 ①: 多機関協働の支援プランの確認, 役割分担
    PARTICIPATION_PLAN = "participation-plan"  # 重層的支援会議 ②: 参加支援事業につなぐ事案のプラン決定
    NO_CONSENT_CONFERENCE = "no-consent-conference"  # 支援会議 ①: 支援介入の同意が得られていない事案のカンファレンス
    OUTREACH_PLAN = "outreach-plan"  # 支援会議 ②: アウトリーチ支援事業につなぐ事案のプランの検討

    @property
    def kind(self) -> MeetingKind:
        return KIND_OF_PURPOSE[self]

    @property
    def japanese(self) -> str:
        return PURPOSE_JA[self]

    @classmethod
    def first_of(cls, kind: MeetingKind) -> MeetingPurpose:
        """The kind's purpose ①: what a meeting of that kind is for unless someone says otherwise."""
        return cls.PLAN_CONFIRMATION if kind is MeetingKind.CONSENT_BASED else cls.NO_CONSENT_CONFERENCE


KIND_OF_PURPOSE: dict[MeetingPurpose, MeetingKind] = {
    MeetingPurpose.PLAN_CONFIRMATION: MeetingKind.CONSENT_BASED,
    MeetingPurpose.PARTICIPATION_PLAN: MeetingKind.CONSENT_BASED,
    MeetingPurpose.NO_CONSENT_CONFERENCE: MeetingKind.CONFIDENTIAL,
    MeetingPurpose.OUTREACH_PLAN: MeetingKind.CONFIDENTIAL,
}
PURPOSE_JA: dict[MeetingPurpose, str] = {
    MeetingPurpose.PLAN_CONFIRMATION: "①支援プランの確認",
    MeetingPurpose.PARTICIPATION_PLAN: "②参加支援につなぐプランの決定",
    MeetingPurpose.NO_CONSENT_CONFERENCE: "①同意が得られていない事案のカンファレンス",
    MeetingPurpose.OUTREACH_PLAN: "②アウトリーチ支援につなぐプランの検討",
}
PLANNING_PURPOSES = frozenset(
    {MeetingPurpose.PLAN_CONFIRMATION, MeetingPurpose.PARTICIPATION_PLAN, MeetingPurpose.OUTREACH_PLAN}
)
"""The purposes whose meeting decides a plan; a conference (支援会議 ①) shares information and decides none."""


def purpose_of(kind: MeetingKind, purpose: MeetingPurpose | str | None) -> MeetingPurpose:
    """A meeting's purpose as read from any record: records written before purposes existed carry none, and
    were meetings of their kind's purpose ① (the only kind of plan or conference there was)."""
    return MeetingPurpose(purpose) if purpose else MeetingPurpose.first_of(kind)


class MeetingReason(ReasonCode):
    """会議の理由: why a meeting is needed. The first five come from referral's CoordinationRequested."""

    MULTI_DOMAIN = "multi-domain"
    COORDINATION_THEME = "coordination-theme"
    HOUSEHOLD = "household"
    NO_AGENCY_ACCEPTED = "no-agency-accepted"
    ESCALATED = "escalated"
    ASKED = "asked"
    PLAN_REVIEW = "plan-review"


class MeetingCancelReason(ReasonCode):
    """会議中止の理由. `consent-withdrawn` is the meetings service's own (not every participant is a member)."""

    NO_LONGER_NEEDED = "no-longer-needed"
    PERSON_DECLINED = "person-declined"
    CONSENT_WITHDRAWN = "consent-withdrawn"
    REPLACED = "replaced"
    OTHER = "other"


_REASONS_JA: dict[type[ReasonCode], dict[str, str]] = {
    DeclineReason: {
        "no-capacity": "受入れ枠なし",
        "outside-area": "担当地区外",
        "not-eligible": "対象外",
        "other": "その他",
    },
    ReferralCancelReason: {
        "no-longer-needed": "支援が不要になった",
        "person-declined": "本人が支援を望まない",
        "duplicate": "重複したつなぎ",
        "sent-in-error": "誤ったつなぎ",
        "other": "その他",
    },
    MeetingReason: {
        "multi-domain": "複数分野にまたがる",
        "coordination-theme": "多機関協働のテーマ",
        "household": "世帯の複合課題",
        "no-agency-accepted": "受け入れる機関がない",
        "escalated": "エスカレーション",
        "asked": "機関からの依頼",
        "plan-review": "支援プランの見直し",
    },
    OutreachEnding: {
        "handed-over": "支援プランへの引継ぎ",
        "no-longer-needed": "支援が不要になった",
        "moved-away": "転居",
        "other": "その他",
    },
    MeetingCancelReason: {
        "no-longer-needed": "開催が不要になった",
        "person-declined": "本人の辞退",
        "consent-withdrawn": "同意の撤回",
        "replaced": "別の会議に代わった",
        "other": "その他",
    },
}


def _purpose() -> Any:
    return Field(
        default=None,
        description="会議の目的, one of its kind's two (plan-confirmation or participation-plan for a consent-based"
        " meeting, no-consent-conference or outreach-plan for a confidential one). The meetings service always"
        " sets it; it is absent only in records written before purposes existed, which read as the kind's first",
    )


class MeetingFacts(CaseEvent):
    """What every meeting event says: which meeting, which kind, who, when."""

    meeting_id: UUID
    kind: MeetingKind
    organizer: AgencyId
    participants: tuple[AgencyId, ...] = Field(min_length=1)
    by_staff: StaffSubject | None = _by_staff()
    purpose: MeetingPurpose | None = _purpose()

    @model_validator(mode="after")
    def _purpose_of_its_kind(self) -> Self:
        if self.purpose is not None and self.purpose.kind is not self.kind:
            raise ValueError(f"purpose {self.purpose} is not a purpose of a {self.kind} meeting")
        return self


class MeetingRequested(MeetingFacts):
    """A meeting is needed for the case, with a proposed time inside business hours."""

    TYPE = TYPE_PREFIX + "meetings.meeting.requested.v1"
    TOPIC = MEETINGS_EVENTS

    proposed_start: AwareDatetime
    proposed_end: AwareDatetime
    reason: MeetingReason = Field(description="Why, as a code; an agency's words stay in the meetings service")


class MeetingScheduled(MeetingFacts):
    """The meeting is on: invitations (iCalendar) go to every participant."""

    TYPE = TYPE_PREFIX + "meetings.meeting.scheduled.v1"
    TOPIC = MEETINGS_EVENTS

    starts_at: AwareDatetime
    ends_at: AwareDatetime
    sequence: int = Field(ge=0, description="iCalendar SEQUENCE: 0 when first scheduled, +1 on every change")


class MeetingRescheduled(MeetingScheduled):
    """The meeting moved (or its participants changed): updated invitations go out."""

    TYPE = TYPE_PREFIX + "meetings.meeting.rescheduled.v1"
    TOPIC = MEETINGS_EVENTS


class MeetingCancelled(MeetingFacts):
    """The meeting will not take place."""

    TYPE = TYPE_PREFIX + "meetings.meeting.cancelled.v1"
    TOPIC = MEETINGS_EVENTS

    reason: MeetingCancelReason = Field(description="Why, as a code; an agency's words stay in the meetings service")
    sequence: int = Field(ge=0)


class MeetingHeld(MeetingFacts):
    TYPE = TYPE_PREFIX + "meetings.meeting.held.v1"
    TOPIC = MEETINGS_EVENTS

    held_at: AwareDatetime


class PlanRole(BaseModel):
    """One agency's part in a support plan; it becomes a referral to that agency."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: AgencyId
    responsibility: Literal[
        "lead",
        "home-visits",
        "benefits",
        "employment",
        "health-care",
        "carer-support",
        "participation",
        "housing",
        "monitoring",
        "outreach",
    ]
    domain: SupportDomain


class SupportPlanConfirmed(CaseEvent):
    """支援プラン: a meeting confirmed goals (kept by meetings), each agency's role, and the review date.

    A 重層的支援会議 confirms a multi-agency plan or decides a 参加支援 plan, whose `participation` roles may name
    a 参加支援 resource (a community place) that did not attend; a 支援会議 decides an outreach plan among its
    members. Each role becomes a referral in referral's closed loop."""

    TYPE = TYPE_PREFIX + "meetings.support-plan.confirmed.v1"
    TOPIC = MEETINGS_EVENTS

    plan_id: UUID
    meeting_id: UUID
    organizer: AgencyId
    district: District
    urgency: Urgency
    roles: tuple[PlanRole, ...] = Field(min_length=1)
    review_on: date
    goal_count: int = Field(ge=1, description="How many goals; their text stays in the meetings service")
    by_staff: StaffSubject | None = _by_staff()
    purpose: MeetingPurpose | None = Field(
        default=None,
        description="The purpose of the meeting that decided the plan; absent only in records written before"
        " purposes existed (plans of a 重層的支援会議 ①)",
    )


class SupportPlanReviewOpened(CaseEvent):
    """支援プランの見直し: a support plan's review date came (on the business calendar) and its review is open.
    The organizer is told, and a review meeting is proposed to the plan meeting's participants when a lawful
    one can be. The review closes when the case's next plan is confirmed; until then referral counts the case
    at risk once the review is overdue."""

    TYPE = TYPE_PREFIX + "meetings.support-plan.review-opened.v1"
    TOPIC = MEETINGS_EVENTS

    plan_id: UUID
    meeting_id: UUID = Field(description="The meeting that decided the plan")
    organizer: AgencyId = Field(description="The agency that confirmed the plan: its coordinator is told")
    review_on: date
    due_at: AwareDatetime = Field(description="8:30 in Tokyo on review_on, or on the next business day")
    review_meeting_id: UUID | None = Field(
        description="The review meeting proposed (its MeetingRequested has reason plan-review); null when no"
        " lawful meeting could be proposed, and the organizer convenes one"
    )


class NotificationDelivered(CaseEvent):
    """A person on call at an agency has been told that a case needs them."""

    TYPE = TYPE_PREFIX + "notify.notification.delivered.v1"
    TOPIC = NOTIFY_EVENTS

    notification_id: UUID
    cause_event_id: UUID = Field(description="The event the notification is about")
    category: str = Field(description="What happened, e.g. referral-proposed")
    recipient_agency: AgencyId
    recipient_role: str = Field(description="primary, secondary, supervisor or coordinator")
    channel: str = Field(description="How it was delivered: record, email, webhook")
    urgency: Urgency
    delivered_at: AwareDatetime


class NotificationFailed(CaseEvent):
    """A notification could not be delivered after every try; it stays visible in notify."""

    TYPE = TYPE_PREFIX + "notify.notification.failed.v1"
    TOPIC = NOTIFY_EVENTS

    notification_id: UUID
    cause_event_id: UUID
    category: str
    recipient_agency: AgencyId
    recipient_role: str
    channel: str
    attempts: int = Field(ge=1)
    last_error: str = Field(max_length=300, description="What the channel answered; never personal data")
    failed_at: AwareDatetime


class NotificationAcknowledged(CaseEvent):
    """The person on call confirmed they have seen it."""

    TYPE = TYPE_PREFIX + "notify.notification.acknowledged.v1"
    TOPIC = NOTIFY_EVENTS

    notification_id: UUID
    recipient_agency: AgencyId
    acknowledged_at: AwareDatetime
    via: Literal["link", "api", "webhook"]
    by_staff: StaffSubject | None = _by_staff()


class NotificationEscalated(CaseEvent):
    """Nobody acknowledged in time: the next rung of the ladder is told."""

    TYPE = TYPE_PREFIX + "notify.notification.escalated.v1"
    TOPIC = NOTIFY_EVENTS

    notification_id: UUID = Field(description="The unacknowledged notification")
    next_notification_id: UUID
    recipient_agency: AgencyId
    from_role: str
    to_role: str
    escalated_at: AwareDatetime


EVENT_TYPES: dict[str, type[Event]] = {
    model.TYPE: model
    for model in (
        ConsultationReceived,
        ConsentRecorded,
        ConsentWithdrawn,
        PersonalDataDisclosed,
        SubmissionRejected,
        ReferralProposed,
        ReferralAccepted,
        ReferralStarted,
        ReferralDeclined,
        ReferralDeclinedV2,
        ReferralCancelled,
        ReferralCompleted,
        ReferralOverdue,
        ReferralEscalated,
        CaseLeadAssigned,
        CoordinationRequested,
        ReferralActionRejected,
        OutreachStarted,
        OutreachContactAttempted,
        OutreachContactMade,
        OutreachConsentObtained,
        OutreachEnded,
        MeetingRequested,
        MeetingScheduled,
        MeetingRescheduled,
        MeetingCancelled,
        MeetingHeld,
        SupportPlanConfirmed,
        SupportPlanReviewOpened,
        NotificationDelivered,
        NotificationFailed,
        NotificationAcknowledged,
        NotificationEscalated,
    )
}
"""Every event type the backbone publishes, by its CloudEvents `type`."""


def namespace_of(event_type: str) -> str:
    """The part of a type that names the service publishing it: "jp.fujisawa.welfare.referral." for every referral
    event."""
    service = event_type.removeprefix(TYPE_PREFIX).split(".", 1)[0]
    return f"{TYPE_PREFIX}{service}."


TOPIC_NAMESPACES: dict[str, str] = {model.TOPIC.name: namespace_of(model.TYPE) for model in EVENT_TYPES.values()}
"""Each events topic's namespace: only its service writes the topic (the ACLs), so a type in that namespace that a
reader does not know is a newer version's event (a new type, or a `.v2` of one), never a stranger's."""

SUBMISSION_TYPE = TYPE_PREFIX + "intake.consultation.submitted.v1"
"""The `ce_type` of an agency's submission on the ingress topic (schemas.submission.SealedSubmission)."""
SUBMISSION_TOPIC = INTAKE_SUBMISSIONS

REFERRAL_ACTION_TYPE = TYPE_PREFIX + "referral.action.requested.v1"
"""The `ce_type` of an agency's action on a referral, on the ingress topic referral.responses.v1."""
