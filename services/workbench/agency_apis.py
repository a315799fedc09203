"""What the signed-in staff member's own agency has at notify and referral: its notifications, its on-call
roster (当番表) and its capacity (受入可否), read and changed with the staff member's access token.

The services decide: notify lists only the notifications addressed to the caller's agency and acknowledges
only those (any other id: 404), and both refuse a change of roster or capacity (403) to a staff member
without the supervisor or coordinator role. The workbench only words their answers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from uuid import UUID

import httpx
from pydantic import BaseModel, ConfigDict

from services.workbench.apis import Answer, ServiceUnavailableError
from services.workbench.settings import WorkbenchOptions


class Notification(BaseModel):
    """A notification as notify lists it (the fields the page shows)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    notification_id: UUID
    case_id: UUID
    category: str
    recipient_role: str
    channel: str
    urgency: str
    state: str
    created_at: datetime
    delivered_at: datetime | None
    acknowledged_at: datetime | None
    acknowledged_via: str | None = None
    escalated_at: datetime | None = None


@dataclass(frozen=True)
class Change:
    """A change's answer: its status, and the problems notify found in a roster (field, message)."""

    status: int
    problems: list[tuple[str, str]] = field(default_factory=list)

    @property
    def done(self) -> bool:
        return self.status < 300


class AgencyApis:
    def __init__(self, options: WorkbenchOptions, http: httpx.AsyncClient) -> None:
        self.notify_url = options.notify_url.rstrip("/")
        self.referral_url = options.referral_url.rstrip("/")
        self.http = http

    async def notifications(self, token: str, *, state: str) -> list[Notification]:
        """The agency's notifications in `state` (open or acknowledged), newest first."""
        answer = await self._send("GET", f"{self.notify_url}/v1/notifications", token, params={"state": state})
        if answer.status_code != 200:
            raise ServiceUnavailableError(f"notify answered the notifications with {answer.status_code}")
        return [Notification.model_validate(item) for item in answer.json()]

    async def acknowledge(self, token: str, notification_id: UUID) -> Answer:
        url = f"{self.notify_url}/v1/notifications/{notification_id}/acknowledge"
        return Answer((await self._send("POST", url, token)).status_code)

    async def roster(self, token: str) -> dict[str, Any]:
        """The roster notify applies to the agency (its default when none is registered)."""
        answer = await self._send("GET", f"{self.notify_url}/v1/rosters/me", token)
        if answer.status_code != 200:
            raise ServiceUnavailableError(f"notify answered the roster with {answer.status_code}")
        roster: dict[str, Any] = answer.json()
        return roster

    async def register_roster(self, token: str, roster: str) -> Change:
        """`roster` as the staff member wrote it (JSON): notify validates it, and stores it only if it is valid."""
        answer = await self._send(
            "PUT", f"{self.notify_url}/v1/rosters/me", token, content=roster.encode(), json_body=True
        )
        problems = answer.json().get("errors", []) if answer.status_code == 422 else []
        return Change(answer.status_code, [(str(p.get("field", "")), str(p.get("message", ""))) for p in problems])

    async def withdraw_roster(self, token: str) -> Change:
        return Change((await self._send("DELETE", f"{self.notify_url}/v1/rosters/me", token)).status_code)

    async def capacity(self, token: str, agency_id: str) -> str | None:
        """The agency's capacity as routing sees it now (reported, or the directory's own)."""
        answer = await self._send("GET", f"{self.referral_url}/v1/directory", token)
        if answer.status_code != 200:
            raise ServiceUnavailableError(f"referral answered the directory with {answer.status_code}")
        return next((str(entry["capacity"]) for entry in answer.json() if entry["id"] == agency_id), None)

    async def report_capacity(self, token: str, capacity: str) -> Change:
        body = json.dumps({"capacity": capacity}).encode()
        url = f"{self.referral_url}/v1/agencies/me/capacity"
        return Change((await self._send("PUT", url, token, content=body, json_body=True)).status_code)

    async def withdraw_capacity(self, token: str) -> Change:
        url = f"{self.referral_url}/v1/agencies/me/capacity"
        return Change((await self._send("DELETE", url, token)).status_code)

    async def _send(
        self,
        method: str,
        url: str,
        token: str,
        *,
        params: dict[str, str] | None = None,
        content: bytes | None = None,
        json_body: bool = False,
    ) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        if json_body:
            headers["Content-Type"] = "application/json"
        try:
            answer = await self.http.request(method, url, params=params, content=content, headers=headers)
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(f"{url.split('/v1/', 1)[0]} did not answer: {type(error).__name__}") from None
        if answer.status_code >= 500:
            raise ServiceUnavailableError(f"{method} {url.split('/v1/', 1)[1]} answered {answer.status_code}")
        return answer
