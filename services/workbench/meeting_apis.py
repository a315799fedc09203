"""meetings' public API, called as the signed-in staff member (their access token as bearer).

meetings decides what the staff member may read (a meeting goes to its organizer and participants only) and
what they may do (the organizer or a coordinator agency, and, for a person, the coordinator role:
services/meetings/conveners.py); it records the staff member's subject id on every event as `by_staff`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict, model_validator

from schemas.events import MeetingKind, MeetingPurpose
from services.workbench.apis import ServiceUnavailableError


class PlanRole(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    agency: str
    responsibility: str
    domain: str


class ConfirmedPlan(BaseModel):
    """支援プラン: what the meeting agreed, as meetings keeps it (the goals never travel on the bus)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    goals: list[str]
    roles: list[PlanRole]
    review_on: date
    confirmed_at: datetime


class Meeting(BaseModel):
    """A meeting as meetings' API shows it to its organizer and participants (the fields the workbench uses)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    meeting_id: UUID
    case_id: UUID
    kind: str
    purpose: str  # a code of schemas.events.MeetingPurpose; kept as text, so a newer one is still shown
    state: str
    organizer: str
    participants: tuple[str, ...]
    starts_at: datetime
    ends_at: datetime
    sequence: int
    reason: str
    request_note: str | None = None
    cancel_reason: str | None = None
    cancel_note: str | None = None
    flag: str | None = None
    requested_at: datetime | None = None
    updated_at: datetime | None = None
    plan: ConfirmedPlan | None = None

    @model_validator(mode="before")
    @classmethod
    def _purpose_of_an_older_service(cls, data: Any) -> Any:
        """A meetings service older than purposes sends none: the meeting is of its kind's purpose ①."""
        if isinstance(data, dict) and not data.get("purpose") and data.get("kind") in set(MeetingKind):
            return {**data, "purpose": MeetingPurpose.first_of(MeetingKind(data["kind"]))}
        return data


@dataclass(frozen=True)
class Refusal:
    """What an action came to: done (status < 300), or meetings' refusal with its status and `detail`."""

    status: int
    detail: str = ""

    @property
    def done(self) -> bool:
        return self.status < 300


class MeetingApis:
    def __init__(self, meetings_url: str, http: httpx.AsyncClient) -> None:
        self.meetings_url = meetings_url.rstrip("/")
        self.http = http

    async def agenda(self, token: str) -> list[Meeting]:
        """The staff member's agency's meetings across its cases (organised or attended), those not over first."""
        answer = await self._call("GET", "/v1/meetings", token)
        if answer.status_code != 200:
            raise ServiceUnavailableError(f"meetings answered the agenda with {answer.status_code}")
        return [Meeting.model_validate(item) for item in answer.json()]

    async def meeting(self, token: str, meeting_id: UUID) -> Meeting | None:
        """The meeting, or None when meetings refuses it (it does not exist, or the agency takes no part in it)."""
        answer = await self._call("GET", f"/v1/meetings/{meeting_id}", token)
        if answer.status_code in (403, 404):
            return None
        if answer.status_code != 200:
            raise ServiceUnavailableError(f"meetings answered with {answer.status_code}")
        return Meeting.model_validate(answer.json())

    async def invitation(self, token: str, meeting_id: UUID) -> bytes | None:
        """The invitation as iCalendar, or None when meetings refuses the meeting (as `meeting`)."""
        answer = await self._call("GET", f"/v1/meetings/{meeting_id}/invitation.ics", token)
        if answer.status_code in (403, 404):
            return None
        if answer.status_code != 200:
            raise ServiceUnavailableError(f"meetings answered the invitation with {answer.status_code}")
        return answer.content

    async def act(self, token: str, meeting_id: UUID, action: str, body: dict[str, Any]) -> Refusal:
        """`schedule`, `held` or `plan`, as the staff member."""
        answer = await self._call("POST", f"/v1/meetings/{meeting_id}/{action}", token, body)
        is_json = answer.headers.get("content-type", "").endswith("json")
        detail = answer.json().get("detail", "") if is_json and answer.status_code >= 300 else ""
        return Refusal(answer.status_code, detail if isinstance(detail, str) else "")

    async def _call(self, method: str, path: str, token: str, body: dict[str, Any] | None = None) -> httpx.Response:
        try:
            answer = await self.http.request(
                method, self.meetings_url + path, json=body, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(f"meetings did not answer: {type(error).__name__}") from None
        if answer.status_code >= 500:
            raise ServiceUnavailableError(f"meetings answered {path} with {answer.status_code}")
        return answer
