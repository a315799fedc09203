"""The other services' public APIs, called as the signed-in staff member (their access token as bearer).

The workbench holds no agency token and reads no other service's database: what a staff member sees is
what referral and intake answer to their token, so need to know and consent are decided where they are
kept, and each read of a person's data is recorded by intake as a disclosure.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict

from services.workbench.settings import WorkbenchOptions


class Referral(BaseModel):
    """A referral as referral's API shows it (the fields the workbench uses)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    referral_id: UUID
    case_id: UUID
    consultation_id: UUID
    from_agency: str
    to_agency: str
    reason: str
    attempt: int
    state: str
    waitlisted: bool
    urgency: str
    respond_by: datetime
    overdue_at: datetime | None
    decline_reason: str | None = None
    decline_note: str | None = None
    outcome: str | None = None


class Person(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    family_name: str
    given_name: str | None = None
    family_name_kana: str | None = None
    given_name_kana: str | None = None
    birth_date: str | None = None
    address: str | None = None
    phone: str | None = None


class ConsultationSummary(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    consultation_id: UUID
    receiving_agency: str
    received_at: datetime
    summary: str


class Disclosure(BaseModel):
    """intake's answer to `GET /v1/consultations/{id}?purpose=support`."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    identity: Person | None
    consultations: list[ConsultationSummary]


class CaseOfAgency(BaseModel):
    """A case of the staff member's agency, as referral's `GET /v1/cases` lists it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    case_id: UUID
    roles: list[str]
    opened_at: datetime | None
    lead_agency: str | None
    in_coordination_queue: bool | None
    open_referrals: int
    waiting_for_you: int
    urgent: bool
    last_activity: datetime


class HistoryEntry(BaseModel):
    """One record of a case's history as audit shows it to an agency involved in the case."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    occurred_at: datetime | None
    event_type: str
    what: str
    why: str = ""
    agencies: list[str] = []
    by_staff: str | None = None
    referral_id: UUID | None = None
    meeting_id: UUID | None = None
    outcome: str | None = None


class OutreachAttempt(BaseModel):
    """One contact attempt of an outreach engagement: codes, and the worker's own words beside them."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    attempt: int
    at: datetime
    method: str
    result: str
    agency: str
    note: str | None = None


class Engagement(BaseModel):
    """アウトリーチ: an outreach engagement as referral's API shows it to the agencies involved in its case."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    outreach_id: UUID
    case_id: UUID
    holder: str
    partner: str | None
    plan_id: UUID | None = None
    state: str
    attempts: int
    started_at: datetime
    last_attempt_at: datetime | None
    quiet_until: datetime
    contact_at: datetime | None
    consent_at: datetime | None
    ended_at: datetime | None
    ending: str | None
    history: list[OutreachAttempt] = []


class ServiceUnavailableError(Exception):
    """A service did not answer, or answered with a server error."""


@dataclass(frozen=True)
class Answer:
    """What an action came to: done, or refused with the service's status (the page words it)."""

    status: int

    @property
    def done(self) -> bool:
        return self.status < 300


@dataclass(frozen=True)
class Submitted:
    """intake's answer to a consultation: 201 (or 200 for the same sheet again) with its ids, else a problem."""

    status: int
    answer: dict[str, Any]


class StaffApis:
    def __init__(self, options: WorkbenchOptions, http: httpx.AsyncClient) -> None:
        self.options = options
        self.http = http

    async def inbox(
        self, token: str, *, limit: int, offset: int = 0, since: datetime | None = None
    ) -> tuple[list[Referral], int]:
        """A page of the referrals waiting for the agency (urgent first, then by deadline; those proposed after
        `since` only, if given), and how many there are in all."""
        params = {"limit": str(limit), "offset": str(offset)} | ({"since": since.isoformat()} if since else {})
        answer = await self._get(self._url("referral", "/v1/inbox"), token, params)
        if answer.status_code != 200:
            raise ServiceUnavailableError(f"referral answered /v1/inbox with {answer.status_code}")
        total = int(answer.headers.get("x-total-count", "0"))
        return [Referral.model_validate(item) for item in answer.json()], total

    async def cases(self, token: str) -> list[CaseOfAgency]:
        """The cases the staff member's agency is involved in, the latest activity first."""
        return [CaseOfAgency.model_validate(item) for item in await self._list("referral", "/v1/cases", token)]

    async def referral(self, token: str, referral_id: UUID) -> Referral | None:
        """The referral, or None when referral refuses it (it does not exist, or the agency is not involved)."""
        found = await self._read("referral", f"/v1/referrals/{referral_id}", token)
        return None if found is None else Referral.model_validate(found)

    async def consultation(self, token: str, consultation_id: UUID) -> Disclosure | None:
        """The person and the consultation's summary for support, or None when intake does not disclose them."""
        found = await self._read("intake", f"/v1/consultations/{consultation_id}", token, {"purpose": "support"})
        return None if found is None else Disclosure.model_validate(found)

    async def referrals_of_case(self, token: str, case_id: UUID) -> list[Referral] | None:
        """The referrals of a case the staff member's agency is involved in; None when referral refuses it."""
        found = await self._read("referral", "/v1/referrals", token, {"case_id": str(case_id)})
        return None if found is None else [Referral.model_validate(item) for item in found]

    async def case_history(self, token: str, case_id: UUID, language: str) -> list[HistoryEntry] | None:
        """The case's history as far as the agency is involved (audit decides); None when audit refuses it."""
        found = await self._read("audit", f"/v1/cases/{case_id}/history", token, {"language": language})
        return None if found is None else [HistoryEntry.model_validate(item) for item in found]

    async def act(self, token: str, referral_id: UUID, action: str, body: dict[str, Any] | None) -> Answer:
        return await self._post_to_referral(f"/v1/referrals/{referral_id}/{action}", token, body)

    async def outreach_of_case(self, token: str, case_id: UUID) -> list[Engagement] | None:
        """The case's outreach engagements; None when referral refuses the case."""
        found = await self._read("referral", "/v1/outreach", token, {"case_id": str(case_id)})
        return None if found is None else [Engagement.model_validate(item) for item in found]

    async def outreach(self, token: str, outreach_id: UUID) -> Engagement | None:
        """The engagement with its attempts; None when referral refuses it."""
        found = await self._read("referral", f"/v1/outreach/{outreach_id}", token)
        return None if found is None else Engagement.model_validate(found)

    async def record_outreach(self, token: str, outreach_id: UUID, step: str, body: dict[str, Any] | None) -> Answer:
        """`attempts`, `contact`, `consent` or `end`, as the staff member."""
        return await self._post_to_referral(f"/v1/outreach/{outreach_id}/{step}", token, body)

    async def _post_to_referral(self, path: str, token: str, body: dict[str, Any] | None) -> Answer:
        try:
            answer = await self.http.post(self._url("referral", path), json=body, headers=_bearer(token))
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(f"referral did not answer: {type(error).__name__}") from None
        if answer.status_code >= 500:
            raise ServiceUnavailableError(f"referral answered with {answer.status_code}")
        return Answer(answer.status_code)

    async def submit_consultation(self, token: str, body: dict[str, Any], *, key: str) -> Submitted:
        """A consultation (つなぐシート) to intake, in the staff member's agency's name. `key` is the sheet's
        Idempotency-Key: sending the same sheet again gets the first answer (200) and stores nothing twice."""
        url = f"{self.options.intake_url}/v1/consultations"
        try:
            answer = await self.http.post(url, json=body, headers={**_bearer(token), "Idempotency-Key": key})
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(f"intake did not answer: {type(error).__name__}") from None
        if answer.status_code >= 500:
            raise ServiceUnavailableError(f"intake answered with {answer.status_code}")
        is_json = answer.headers.get("content-type", "").endswith("json")
        return Submitted(answer.status_code, answer.json() if is_json else {})

    def _url(self, service: str, path: str) -> str:
        base = {
            "intake": self.options.intake_url,
            "referral": self.options.referral_url,
            "audit": self.options.audit_url,
        }[service]
        return f"{base.rstrip('/')}{path}"

    async def _read(self, service: str, path: str, token: str, params: dict[str, str] | None = None) -> Any:
        """A case's object as the service answers the staff member: its JSON, or None when the service refuses it
        (403, 404: it does not exist, or the agency is not involved: the two are never told apart)."""
        answer = await self._get(self._url(service, path), token, params)
        if answer.status_code == 200:
            return answer.json()
        if answer.status_code in (403, 404):
            return None
        raise ServiceUnavailableError(f"{service} answered {path} with {answer.status_code}")

    async def _list(self, service: str, path: str, token: str) -> list[Any]:
        """A list the service owes any signed-in staff member (their agency's own): anything but 200 is a failure."""
        answer = await self._get(self._url(service, path), token)
        if answer.status_code != 200:
            raise ServiceUnavailableError(f"{service} answered {path} with {answer.status_code}")
        found: list[Any] = answer.json()
        return found

    async def _get(self, url: str, token: str, params: dict[str, str] | None = None) -> httpx.Response:
        try:
            return await self.http.get(url, params=params, headers=_bearer(token))
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(
                f"{url.split('/v1/', maxsplit=1)[0]} did not answer: {type(error).__name__}"
            ) from None


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
