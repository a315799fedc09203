"""audit's API, called as the signed-in auditor (their own access token as bearer).

The workbench keeps no auditor token and reads no ledger: audit decides that the caller holds the auditor
role, and records each of these queries in the ledger itself, as it does any auditor's.
"""

from __future__ import annotations

from typing import Any

import httpx

from services.workbench.apis import ServiceUnavailableError


class AuditorApis:
    def __init__(self, audit_url: str, http: httpx.AsyncClient) -> None:
        self.audit_url = audit_url.rstrip("/")
        self.http = http

    async def timeline(self, token: str, *, kind: str, key: str, lang: str) -> list[dict[str, Any]]:
        """The timeline of a case, a referral or a trace (`kind` is case_id, referral_id or trace_id)."""
        rows: list[dict[str, Any]] = (await self._get(token, "/v1/timeline", {kind: key, "language": lang})).json()
        return rows

    async def timeline_csv(self, token: str, *, kind: str, key: str, lang: str) -> httpx.Response:
        """The same timeline as audit exports it (CSV, with its file name)."""
        return await self._get(token, "/v1/timeline.csv", {kind: key, "language": lang})

    async def disclosures(self, token: str, *, case_id: str | None, agency: str | None) -> list[dict[str, Any]]:
        params = {name: value for name, value in (("case_id", case_id), ("agency", agency)) if value}
        rows: list[dict[str, Any]] = (await self._get(token, "/v1/disclosures", params)).json()
        return rows

    async def unanswered(self, token: str) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = (await self._get(token, "/v1/unanswered", {})).json()
        return rows

    async def yearly(self, token: str, *, fiscal_year: int, lang: str) -> dict[str, Any]:
        figures: dict[str, Any] = (
            await self._get(token, "/v1/yearly", {"fiscal_year": str(fiscal_year), "language": lang})
        ).json()
        return figures

    async def _get(self, token: str, path: str, params: dict[str, str]) -> httpx.Response:
        try:
            answer = await self.http.get(
                f"{self.audit_url}{path}", params=params, headers={"Authorization": f"Bearer {token}"}
            )
        except httpx.HTTPError as error:
            raise ServiceUnavailableError(f"audit did not answer: {type(error).__name__}") from None
        if answer.status_code != 200:
            # The pages check what they send, so any refusal here is the service's (or the token's) problem.
            raise ServiceUnavailableError(f"audit answered {path} with {answer.status_code}")
        return answer
