"""Meetings against the real broker and database: from a multi-agency case to a lawful meeting, an
invitation, a confirmed plan and the referrals it makes; consent withdrawal; refusals."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from icalendar import Calendar

from backbone.calendar import TOKYO, next_business_day
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.meeting_steps import (
    COORDINATOR,
    COUNTER,
    consent_based_proposal,
    coordinator,
    multi_agency_case,
    proposed_meeting,
)
from tests.integration.services import RunningServices


async def test_a_multi_agency_case_gets_a_lawful_meeting_an_invitation_a_plan_and_its_referrals(
    services: RunningServices,
) -> None:
    case, proposal = await consent_based_proposal(services)
    assert proposal["state"] == "requested"
    assert proposal["participants"] == ["backup-fujisawa-shakyo", "csw-kugenuma", "ikiiki-kugenuma"]
    url = f"/v1/meetings/{proposal['meeting_id']}"
    async with await coordinator(services) as meetings:
        scheduled = await meetings.post(f"{url}/schedule", json={})
        assert scheduled.status_code == 200, scheduled.text
        # Moved to the same hour of a later business day: the next one on which all three are free (earlier
        # runs' meetings fill the calendar, and a proposal may fall just before a weekend or the year-end closing).
        later = proposal["starts_at"].astimezone(TOKYO)
        for _ in range(20):
            later = datetime.combine(next_business_day(later.date()), later.timetz())
            moved = await meetings.post(
                f"{url}/schedule",
                json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat()},
            )
            if moved.status_code != 422:
                break
        assert moved.status_code == 200 and moved.json()["sequence"] == 1, moved.text
        ics = await meetings.get(f"{url}/invitation.ics")
    event = next(iter(Calendar.from_ical(ics.text).walk("VEVENT")))
    assert int(event["SEQUENCE"]) == 1 and event.decoded("DTSTART") == later
    assert case["case_id"][:8] in str(event["SUMMARY"]) and "鵠沼" not in ics.text

    # The meeting takes place (moved into the past for the test), and the plan it agreed is confirmed.
    await services.runtime("meetings").pool.execute(
        "UPDATE meetings SET starts_at = now() - interval '2 hours', ends_at = now() - interval '1 hour'"
        " WHERE meeting_id = $1",
        proposal["meeting_id"],
    )
    async with await coordinator(services) as meetings:
        assert (await meetings.post(f"{url}/held")).status_code == 200
        plan = {
            "goals": ["外出の機会を週1回つくる", "介護負担を減らす"],
            "review_on": str(date.today() + timedelta(days=90)),
            "roles": [
                {"agency": "ikiiki-kugenuma", "responsibility": "carer-support", "domain": "elderly"},
                {"agency": "csw-kugenuma", "responsibility": "participation", "domain": "withdrawal"},
            ],
        }
        outsider = {**plan, "roles": [{"agency": "seishin-hoken", "responsibility": "health-care",
                                       "domain": "mental-health"}]}  # fmt: skip
        refused = await meetings.post(f"{url}/plan", json=outsider)
        confirmed = await meetings.post(f"{url}/plan", json=plan)
    assert refused.status_code == 422 and "seishin-hoken" in refused.json()["detail"]
    assert confirmed.status_code == 201, confirmed.text
    assert confirmed.json()["goal_count"] == 2 and "外出" not in confirmed.text

    referrals: list[dict[str, Any]] = []

    async def plan_referrals() -> bool:
        async with await services.as_agency(*COORDINATOR, service="referral") as referral:
            rows = (await referral.get("/v1/referrals", params={"case_id": case["case_id"]})).json()
        referrals[:] = [row for row in rows if row["routing_rule"] == "support-plan"]
        return len(referrals) == 2

    await eventually(plan_referrals, within=30)
    assert sorted(r["to_agency"] for r in referrals) == ["csw-kugenuma", "ikiiki-kugenuma"]


async def test_withdrawn_consent_turns_a_future_consent_based_meeting_into_a_support_meeting(
    services: RunningServices,
) -> None:
    case, proposal = await consent_based_proposal(services)
    async with await coordinator(services) as meetings:
        assert (await meetings.post(f"/v1/meetings/{proposal['meeting_id']}/schedule", json={})).status_code == 200
    intake_pool = services.runtime("intake").pool
    consent_id = await intake_pool.fetchval("SELECT consent_id FROM consents WHERE person_id = $1",
                                            uuid.UUID(case["person_id"]))  # fmt: skip
    async with await services.as_agency(*COUNTER) as intake:
        assert (await intake.post(f"/v1/consents/{consent_id}/withdrawal")).status_code == 200
    pool = services.runtime("meetings").pool

    async def converted() -> bool:
        kind = await pool.fetchval("SELECT kind FROM meetings WHERE meeting_id = $1", proposal["meeting_id"])
        return bool(kind == "confidential")

    await eventually(converted, within=30)
    row = await pool.fetchrow(
        "SELECT state, flag, sequence FROM meetings WHERE meeting_id = $1", proposal["meeting_id"]
    )
    assert row["state"] == "scheduled" and "consent withdrawn" in row["flag"] and row["sequence"] == 1


async def test_unlawful_or_impossible_meetings_are_refused_with_the_reason(services: RunningServices) -> None:
    case = await multi_agency_case(services, consent=None)
    await proposed_meeting(services, case["case_id"])  # without consent, a 支援会議 is proposed
    members = ["backup-fujisawa-shakyo", "csw-kugenuma"]
    async with await coordinator(services) as meetings:
        no_consent = await meetings.post(
            "/v1/meetings", json={"case_id": case["case_id"], "kind": "consent-based", "participants": members}
        )
        outsider = await meetings.post(
            "/v1/meetings",
            json={"case_id": case["case_id"], "kind": "confidential", "participants": [*members, "engawa-kugenuma"]},
        )
        unknown = await meetings.post(
            "/v1/meetings", json={"case_id": case["case_id"], "kind": "confidential", "participants": ["nobody-here"]}
        )
        lawful = await meetings.post(
            "/v1/meetings", json={"case_id": case["case_id"], "kind": "confidential", "participants": members}
        )
        meeting_id = lawful.json()["meeting_id"]
        past = datetime.now(UTC) - timedelta(days=1)
        in_the_past = await meetings.post(
            f"/v1/meetings/{meeting_id}/schedule",
            json={"starts_at": past.isoformat(), "ends_at": (past + timedelta(hours=1)).isoformat()},
        )
        first = await meetings.get(f"/v1/meetings/{meeting_id}")
        not_yet = await meetings.post(f"/v1/meetings/{meeting_id}/held")
        tomorrow = await meetings.post(
            f"/v1/meetings/{meeting_id}/held", json={"at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}
        )
    assert no_consent.status_code == 422 and "does not cover: backup-fujisawa-shakyo, csw-kugenuma" in no_consent.text
    assert outsider.status_code == 422 and "engawa-kugenuma" in outsider.text
    assert unknown.status_code == 422 and "unknown agencies: nobody-here" in unknown.text
    assert lawful.status_code == 201
    assert in_the_past.status_code == 422 and "future" in in_the_past.text
    assert first.json()["kind"] == "confidential"
    assert not_yet.status_code == 422 and "short notice" in not_yet.text
    assert tomorrow.status_code == 422 and "past 30 days" in tomorrow.text
    async with await services.as_agency("engawa-kugenuma", AgencyType.COMMUNITY_PLACE, "meetings") as stranger:
        assert (await stranger.get(f"/v1/meetings/{meeting_id}")).status_code == 403  # records go to members only
    # The proposal and the lawful request cannot both take the case's first free slot: the second moves on.
    pool = services.runtime("meetings").pool
    times = await pool.fetch("SELECT starts_at FROM meetings WHERE case_id = $1", uuid.UUID(case["case_id"]))
    assert len({row["starts_at"] for row in times}) == len(times)
