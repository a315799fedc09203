"""Steps the meetings tests share: a multi-agency case in 鵠沼, the meeting the backbone proposes for it, and
the coordinator (バックアップふじさわ社協) who convenes."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices

COUNTER = ("chiku-fukushi-kugenuma", AgencyType.DISTRICT_WELFARE_COUNTER)
COORDINATOR = ("backup-fujisawa-shakyo", AgencyType.SELF_RELIANCE_COUNCIL)
EVERYONE_FOR_MEETINGS = {
    "scope": {"all_programme_agencies": True},
    "purposes": ["support", "case-meeting"],
    "method": "written",
}


async def multi_agency_case(services: RunningServices, *, consent: dict[str, Any] | None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "receiving_agency": COUNTER[0],
        "staff_id": "g-5",
        "channel": "home-visit",
        "district": "kugenuma",
        "domains": ["elderly", "withdrawal"],
        "personal": {"person": {"family_name": f"鵠沼{uuid.uuid4().hex[:5]}", "birth_date": "1944-02-02"}},
    }
    if consent:
        body["consent"] = consent
    async with await services.as_agency(*COUNTER) as intake:
        answer = await intake.post("/v1/consultations", json=body)
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def proposed_meeting(services: RunningServices, case_id: str) -> dict[str, Any]:
    pool = services.runtime("meetings").pool
    await eventually(lambda: pool.fetchval("SELECT 1 FROM meetings WHERE case_id = $1", uuid.UUID(case_id)), within=30)
    row = await pool.fetchrow("SELECT * FROM meetings WHERE case_id = $1", uuid.UUID(case_id))
    return dict(row)


async def consent_based_proposal(services: RunningServices) -> tuple[dict[str, Any], dict[str, Any]]:
    """A case whose coordination meetings heard of after the person's consent, and its proposal.

    The consent (intake's topic) and the coordination request (referral's topic) may reach meetings in
    either order, and a proposal follows the consent in force when it is made (services/meetings/handlers.py):
    a proposal made first is a 支援会議, which the consent then moves to a 重層的支援会議 (flagged, SEQUENCE 1).
    The tests that need one proposed consent-based make a new case when the other interleaving happened, a
    bounded number of times.
    """
    for _ in range(3):
        case = await multi_agency_case(services, consent=EVERYONE_FOR_MEETINGS)
        proposal = await proposed_meeting(services, case["case_id"])
        if proposal["kind"] == "consent-based" and proposal["flag"] is None:  # proposed so, not moved on consent
            return case, proposal
    raise AssertionError("three cases in a row were proposed before meetings heard of the consent")


async def coordinator(services: RunningServices) -> httpx.AsyncClient:
    return await services.as_agency(*COORDINATOR, service="meetings")


REVIEW = str(date.today() + timedelta(days=90))


async def held(services: RunningServices, meetings: httpx.AsyncClient, meeting_id: Any) -> None:
    """Fix the proposed time, then move the meeting into the past and record it as held."""
    assert (await meetings.post(f"/v1/meetings/{meeting_id}/schedule", json={})).status_code == 200
    await services.runtime("meetings").pool.execute(
        "UPDATE meetings SET starts_at = now() - interval '2 hours', ends_at = now() - interval '1 hour'"
        " WHERE meeting_id = $1",
        uuid.UUID(str(meeting_id)),
    )
    answer = await meetings.post(f"/v1/meetings/{meeting_id}/held")
    assert answer.status_code == 200, answer.text


def role(agency: str, responsibility: str, domain: str = "withdrawal") -> dict[str, str]:
    return {"agency": agency, "responsibility": responsibility, "domain": domain}


async def confirm(
    meetings: httpx.AsyncClient, meeting_id: Any, goal: str, *roles: dict[str, str], review_on: str = REVIEW
) -> httpx.Response:
    """Ask meetings to confirm the meeting's plan: one goal, these roles, a review on `review_on` (in 90 days)."""
    body = {"goals": [goal], "review_on": review_on, "roles": list(roles)}
    return await meetings.post(f"/v1/meetings/{meeting_id}/plan", json=body)


async def referrals_of(services: RunningServices, case_id: str, count: int, rule: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = []

    async def arrived() -> bool:
        async with await services.as_agency(*COORDINATOR, service="referral") as referral:
            rows = (await referral.get("/v1/referrals", params={"case_id": case_id})).json()
        found[:] = [row for row in rows if row["routing_rule"] == rule]
        return len(found) >= count

    await eventually(arrived, within=30)
    return found


async def at_risk_reasons(services: RunningServices, case_id: str) -> list[str]:
    async with await services.as_agency(*COORDINATOR, service="referral") as referral:
        rows = (await referral.get("/v1/cases/at-risk")).json()
    return [row["reason"] for row in rows if row["case_id"] == case_id]
