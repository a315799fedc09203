"""What an agency system submits, and what intake answers."""

from __future__ import annotations

from uuid import UUID

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from schemas.events import ConsentScope
from schemas.vocabulary import Channel, District, SupportDomain, Urgency

AGENCY_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,63}$"


class ConsultationSubmission(BaseModel):
    """相談受付: one consultation as the receiving agency recorded it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receiving_agency: str = Field(pattern=AGENCY_ID_PATTERN, examples=["ikiiki-katase"])
    channel: Channel
    district: District
    domains: tuple[SupportDomain, ...] = Field(min_length=1, max_length=len(SupportDomain))
    urgency: Urgency = Urgency.NORMAL
    consent: ConsentScope = ConsentScope()
    received_at: AwareDatetime | None = Field(default=None, description="When the agency took it in; now if absent")

    @field_validator("domains")
    @classmethod
    def _distinct(cls, domains: tuple[SupportDomain, ...]) -> tuple[SupportDomain, ...]:
        if len(set(domains)) != len(domains):
            raise ValueError("each support domain may be listed once")
        return domains


class ConsultationAccepted(BaseModel):
    consultation_id: UUID
    case_id: UUID
    event_id: UUID
    trace_id: str | None
    replayed: bool = Field(description="True when this answers a retry of an earlier submission")
