"""What an agency system submits: over HTTP as one JSON body, over Kafka with the personal part sealed.

The personal part (the person's identity and the free-text summary) is personal data. Over HTTP it
travels inside TLS to intake; on the ingress topic it travels sealed to intake's public key (a libsodium
sealed box), so no plaintext personal data touches Kafka even on the way in.
"""

from __future__ import annotations

import unicodedata
from datetime import UTC, date, datetime, timedelta
from typing import Annotated
from uuid import UUID

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from schemas import events
from schemas.events import ConsentMethod, ConsentPurpose, ConsentScope
from schemas.vocabulary import Channel, ConsultedBy, District, HouseholdRelation, SupportDomain, Urgency

AGENCY_ID_PATTERN = events.AGENCY_ID_PATTERN
"""What an agency id looks like (the events carry agency ids, so the pattern is defined with them)."""

SUMMARY_LIMIT = 4000
"""Characters in a consultation's free-text summary."""
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of intake's clock a submitted time may be before it counts as "in the future"."""


def _no_control_characters(value: str) -> str:
    if any(unicodedata.category(char) in {"Cc", "Cf", "Cs"} and char not in "\n\t" for char in value):
        raise ValueError("must not contain control characters")
    return value


class PersonIdentity(BaseModel):
    """The person's identity as the agency recorded it. Any field may be missing but the family name."""

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)

    family_name: str = Field(min_length=1, max_length=60, examples=["藤沢"])
    given_name: str | None = Field(default=None, max_length=60, examples=["花子"])
    family_name_kana: str | None = Field(default=None, max_length=60, examples=["フジサワ"])
    given_name_kana: str | None = Field(default=None, max_length=60, examples=["ハナコ"])
    birth_date: date | None = Field(default=None, examples=["1948-04-01"])
    address: str | None = Field(default=None, max_length=200)
    phone: str | None = Field(default=None, max_length=30, examples=["0466-00-0000"])

    @field_validator("family_name", "given_name", "address")
    @classmethod
    def _text(cls, value: str | None) -> str | None:
        return None if value is None else _no_control_characters(value)

    @field_validator("family_name_kana", "given_name_kana")
    @classmethod
    def _kana(cls, value: str | None) -> str | None:
        if value is None:
            return None
        normalised = unicodedata.normalize("NFKC", value)
        if not all(_is_kana(char) or char.isspace() for char in normalised):
            raise ValueError("must be written in kana (ひらがな or カタカナ)")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if value is None:
            return None
        digits = unicodedata.normalize("NFKC", value).replace("-", "").replace(" ", "").removeprefix("+")
        if not digits.isascii() or not digits.isdigit() or not 6 <= len(digits) <= 15:
            raise ValueError("must be a phone number: digits, optionally with hyphens")
        return value

    @field_validator("birth_date")
    @classmethod
    def _plausible_birth_date(cls, value: date | None) -> date | None:
        if value is not None and not date(1900, 1, 1) <= value <= date.today():
            raise ValueError("must be between 1900-01-01 and today")
        return value


AgencyNote = Annotated[
    str,
    AfterValidator(_no_control_characters),
    Field(
        max_length=200,
        description="A few words beside the reason code, never personal data. Kept by the service it is sent to, "
        "shown to the agencies that may read the referral or meeting, and never published on the bus",
    ),
]
"""What an agency may write beside a reason code, over HTTP only (the ingress topics take codes alone)."""


def _is_kana(char: str) -> bool:
    return "\u3040" <= char <= "\u30ff" or char in "ー・"


class PersonalPart(BaseModel):
    """Everything personal about a consultation: sealed on the ingress topic, encrypted at rest."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    summary: str = Field(default="", max_length=SUMMARY_LIMIT, description="相談内容: free text as recorded")
    person: PersonIdentity | None = Field(default=None, description="Absent for an anonymous consultation")

    @field_validator("summary")
    @classmethod
    def _summary(cls, value: str) -> str:
        return _no_control_characters(value)


class ConsentGiven(BaseModel):
    """A consent obtained by the agency: whom it covers, for what, how and until when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scope: ConsentScope
    purposes: tuple[ConsentPurpose, ...] = Field(min_length=1)
    method: ConsentMethod
    given_at: AwareDatetime | None = Field(default=None, description="When the person agreed; now if absent")
    valid_until: AwareDatetime | None = None

    @field_validator("given_at")
    @classmethod
    def _not_in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        return value


class HouseholdLink(BaseModel):
    """世帯: the household the person concerned belongs to. Without `household_id` the consultation starts a new
    household, whose id comes back in the answer; with it, the person joins that household and its open case,
    so that an 8050 parent and child are one case's concern. Consent stays each person's own."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    household_id: UUID | None = Field(
        default=None,
        description="A household an earlier consultation started (its answer's household_id); your agency must be"
        " involved in one of its cases. Absent: start a new household with this person",
    )
    relation: HouseholdRelation | None = Field(
        default=None, description="続柄: the person's relation to the head of the household (世帯主)"
    )


class ConsultationFacts(BaseModel):
    """相談受付: what the rest of the backbone may know about a consultation."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    receiving_agency: str = Field(pattern=AGENCY_ID_PATTERN, examples=["chiku-fukushi-zengyo"])
    staff_id: str = Field(pattern=r"^[A-Za-z0-9._-]{1,64}$", description="The agency's own id of the staff member")
    channel: Channel
    district: District
    domains: tuple[SupportDomain, ...] = Field(min_length=1, max_length=len(SupportDomain))
    urgency: Urgency = Urgency.NORMAL
    received_at: AwareDatetime | None = Field(default=None, description="When the agency took it in; now if absent")
    consent: ConsentGiven | None = Field(default=None, description="A consent obtained while taking it in")
    consulted_by: ConsultedBy = Field(
        default=ConsultedBy.PERSON,
        description="相談者: who brought the consultation, when it was not the person concerned (a family member, a"
        " supporter). The identity, consent and case are still the person concerned's",
    )
    household: HouseholdLink | None = Field(
        default=None,
        description="世帯: start a household with this person, or join one an earlier consultation started",
    )

    @field_validator("received_at")
    @classmethod
    def _not_in_the_future(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("must not be in the future")
        return value

    @field_validator("domains")
    @classmethod
    def _distinct(cls, domains: tuple[SupportDomain, ...]) -> tuple[SupportDomain, ...]:
        if len(set(domains)) != len(domains):
            raise ValueError("each support domain may be listed once")
        return domains


class ConsultationSubmission(ConsultationFacts):
    """The HTTP body: the facts and the personal part together."""

    personal: PersonalPart = PersonalPart()


class SealedSubmission(ConsultationFacts):
    """The ingress record's value: the facts, and the personal part sealed to intake's public key."""

    sealed_personal: str | None = Field(
        default=None,
        max_length=32_768,
        description="base64 of a libsodium sealed box holding the JSON of a PersonalPart; absent if there is none",
    )
