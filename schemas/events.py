"""Event types of the backbone, versioned and in the past tense.

A change inside a version may only add optional fields; anything else is a new type published side by
side (`...v2`). Every event names its case: the case id is the record key, so the events of one case
stay in order within a partition.
"""

from __future__ import annotations

from typing import ClassVar
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from schemas.topics import INTAKE_EVENTS, NOTIFY_EVENTS, REFERRAL_EVENTS, TopicSpec
from schemas.vocabulary import Channel, District, SupportDomain, Urgency

TYPE_PREFIX = "jp.fujisawa.welfare."

AgencyId = str
"""A directory id such as `ikiiki-katase` or `csw-katase` (the directory is data owned by referral)."""


class Event(BaseModel):
    """Base of every event body. Subclasses set TYPE and TOPIC."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    TYPE: ClassVar[str]
    TOPIC: ClassVar[TopicSpec]

    case_id: UUID = Field(description="The case this event belongs to; also the Kafka record key")

    @classmethod
    def dataschema(cls) -> str:
        return f"urn:jp:fujisawa:welfare:schema:{cls.TYPE.removeprefix(TYPE_PREFIX)}"


class ConsentScope(BaseModel):
    """本人同意: to whom the person has agreed their personal data may be disclosed."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    all_programme_agencies: bool = Field(
        default=False, description="Consent covers every agency of the multi-layered support programme"
    )
    agencies: tuple[AgencyId, ...] = Field(default=(), description="Agencies named in the consent")


class ConsultationReceived(Event):
    """相談受付: an agency has taken in a consultation. Carries no personal data."""

    TYPE = TYPE_PREFIX + "intake.consultation.received.v1"
    TOPIC = INTAKE_EVENTS

    consultation_id: UUID
    receiving_agency: AgencyId
    channel: Channel
    district: District
    domains: tuple[SupportDomain, ...] = Field(min_length=1)
    urgency: Urgency
    subject_ref: str | None = Field(
        default=None,
        description="Keyed hash of the person's normalised identity; absent for anonymous consultations",
    )
    consent: ConsentScope = ConsentScope()
    received_at: AwareDatetime


class ReferralProposed(Event):
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


class NotificationDelivered(Event):
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


EVENT_TYPES: dict[str, type[Event]] = {
    model.TYPE: model for model in (ConsultationReceived, ReferralProposed, NotificationDelivered)
}
"""Every event type the backbone knows, by its CloudEvents `type`."""
