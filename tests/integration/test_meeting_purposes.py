"""The seed's four meeting purposes on the real stack, each walked from a consultation to tracked work:

- 重層的支援会議 ① confirms a multi-agency plan (tests/integration/test_meetings.py walks it; here, its purpose);
- 重層的支援会議 ② decides a 参加支援 plan: a community place that did not attend gets the person, declines or
  accepts, and the loop closes with an outcome;
- 支援会議 ① is a conference without consent; when the person consents, it becomes a 重層的支援会議;
- 支援会議 ② decides an outreach plan held by the district CSW.

And the city's 実績: meetings' figures by kind and purpose against a seeded set of meetings.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

from backbone import directory
from backbone.calendar import fiscal_year, fiscal_year_bounds
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.meeting_steps import (
    COORDINATOR,
    COUNTER,
    EVERYONE_FOR_MEETINGS,
    confirm,
    consent_based_proposal,
    coordinator,
    held,
    multi_agency_case,
    proposed_meeting,
    referrals_of,
    role,
)
from tests.integration.services import RunningServices

PLACE = ("engawa-kugenuma", AgencyType.COMMUNITY_PLACE)
CSW = ("csw-kugenuma", AgencyType.DISTRICT_CSW)


DIRECTORY = directory.load()


async def test_a_participation_plan_connects_the_person_to_a_place_that_answers_and_closes_the_loop(
    services: RunningServices,
) -> None:
    case, proposal = await consent_based_proposal(services)
    assert proposal["purpose"] == "plan-confirmation"  # the backbone's own proposal: ①
    async with await coordinator(services) as meetings:
        asked = await meetings.post(
            "/v1/meetings",
            json={
                "case_id": case["case_id"],
                "kind": "consent-based",
                "purpose": "participation-plan",
                "participants": ["backup-fujisawa-shakyo", "csw-kugenuma"],
            },
        )
        assert asked.status_code == 201 and asked.json()["purpose"] == "participation-plan", asked.text
        meeting_id = asked.json()["meeting_id"]
        await held(services, meetings, meeting_id)
        without_a_place = await confirm(meetings, meeting_id, "週に一度、外に出る", role(CSW[0], "monitoring"))
        plan = await confirm(
            meetings,
            meeting_id,
            "週に一度、地域の縁側に通う",
            role(CSW[0], "monitoring"),
            role(PLACE[0], "participation"),
        )
    assert without_a_place.status_code == 422 and "participation role" in without_a_place.text
    assert plan.status_code == 201 and plan.json()["purpose"] == "participation-plan", plan.text

    # The place that did not attend gets the person, as 参加支援; it has no room, so the next place is asked.
    (first,) = await referrals_of(services, case["case_id"], 1, "participation")
    assert first["to_agency"] == PLACE[0]
    async with await services.as_agency(*PLACE, service="referral") as place:
        declined = await place.post(f"/v1/referrals/{first['referral_id']}/decline", json={"reason": "no-capacity"})
    assert declined.status_code == 200, declined.text
    both = await referrals_of(services, case["case_id"], 2, "participation")
    (second,) = [r for r in both if r["referral_id"] != first["referral_id"]]
    assert second["to_agency"] != PLACE[0]
    # The next place has no system of its own: バックアップふじさわ社協 answers for it (the directory's answered_by).
    assert second["to_agency"] in DIRECTORY.answered_for(COORDINATOR[0])
    async with await services.as_agency(*COORDINATOR, service="referral") as shakyo:
        inbox = (await shakyo.get("/v1/inbox")).json()
        assert second["referral_id"] in {r["referral_id"] for r in inbox}
        for step, body in (("accept", None), ("start", None), ("complete", {"outcome": "resolved"})):
            answer = await shakyo.post(f"/v1/referrals/{second['referral_id']}/{step}", json=body)
            assert answer.status_code == 200, (step, answer.text)
        closed = (await shakyo.get(f"/v1/referrals/{second['referral_id']}")).json()
    assert closed["state"] == "completed" and closed["to_agency"] == second["to_agency"]
    # An agency that does not answer for the place may not answer for it.
    async with await services.as_agency("ikiiki-kugenuma", AgencyType.COMMUNITY_SUPPORT_CENTRE, "referral") as other:
        refused = await other.post(f"/v1/referrals/{second['referral_id']}/accept")
    assert refused.status_code in {403, 404}
    # The record says who acted, and for whom.
    acted = await services.runtime("referral").pool.fetch(
        "SELECT convert_from(payload, 'UTF8')::jsonb AS body FROM outbox WHERE record_key = $1"
        " AND headers->>'ce_type' LIKE '%referral.completed%'",
        case["case_id"],
    )
    bodies = [json.loads(row["body"]) for row in acted]
    assert [(b["agency"], b["on_behalf_of"]) for b in bodies] == [(COORDINATOR[0], second["to_agency"])]


async def test_a_conference_without_consent_decides_nothing_and_becomes_a_consent_based_meeting_on_consent(
    services: RunningServices,
) -> None:
    case = await multi_agency_case(services, consent=None)
    proposal = await proposed_meeting(services, case["case_id"])
    assert (proposal["kind"], proposal["purpose"]) == ("confidential", "no-consent-conference")
    async with await coordinator(services) as meetings:
        assert (await meetings.post(f"/v1/meetings/{proposal['meeting_id']}/schedule", json={})).status_code == 200
    # The person consents (a counter records it): the coming 支援会議 becomes a 重層的支援会議 ①.
    async with await services.as_agency(*COUNTER) as intake:
        given = await intake.post(f"/v1/persons/{case['person_id']}/consents", json=EVERYONE_FOR_MEETINGS)
    assert given.status_code == 201, given.text
    pool = services.runtime("meetings").pool

    async def upgraded() -> bool:
        kind = await pool.fetchval("SELECT kind FROM meetings WHERE meeting_id = $1", proposal["meeting_id"])
        return bool(kind == "consent-based")

    await eventually(upgraded, within=30)
    row = await pool.fetchrow("SELECT * FROM meetings WHERE meeting_id = $1", proposal["meeting_id"])
    assert row["purpose"] == "plan-confirmation" and "consent recorded" in row["flag"] and row["sequence"] == 1
    # Now it may decide a plan, whose roles become referrals.
    async with await coordinator(services) as meetings:
        await held(services, meetings, proposal["meeting_id"])
        plan = await confirm(
            meetings, proposal["meeting_id"], "生活のリズムを整える", role("ikiiki-kugenuma", "lead", "elderly")
        )
    assert plan.status_code == 201, plan.text
    (lead,) = await referrals_of(services, case["case_id"], 1, "support-plan")
    assert lead["to_agency"] == "ikiiki-kugenuma"


async def test_an_outreach_plan_from_a_support_meeting_gives_the_csw_tracked_work(services: RunningServices) -> None:
    case = await multi_agency_case(services, consent=None)
    conference = await proposed_meeting(services, case["case_id"])
    this_year = fiscal_year(datetime.now(UTC))
    async with await services.as_auditor() as audit:
        year = (await audit.get("/v1/yearly", params={"fiscal_year": this_year})).json()
    outreach_before = year["meetings_held"]["confidential"]["outreach-plan"]
    async with await coordinator(services) as meetings:
        await held(services, meetings, conference["meeting_id"])
        nothing = await confirm(meetings, conference["meeting_id"], "接触を試みる", role(CSW[0], "outreach"))
        wrong_kind = await meetings.post(
            "/v1/meetings",
            json={"case_id": case["case_id"], "kind": "consent-based", "purpose": "outreach-plan",
                  "participants": ["backup-fujisawa-shakyo", CSW[0]]},
        )  # fmt: skip
        asked = await meetings.post(
            "/v1/meetings",
            json={"case_id": case["case_id"], "kind": "confidential", "purpose": "outreach-plan",
                  "participants": ["backup-fujisawa-shakyo", CSW[0]]},
        )  # fmt: skip
        assert asked.status_code == 201, asked.text
        await held(services, meetings, asked.json()["meeting_id"])
        outreach_id = asked.json()["meeting_id"]
        by_a_centre = await confirm(meetings, outreach_id, "接触を試みる", role(COORDINATOR[0], "lead"))
        plan = await confirm(
            meetings,
            outreach_id,
            "月に二度、訪問して接触を試みる",
            role(CSW[0], "outreach"),
            role(COORDINATOR[0], "lead"),
        )
    assert nothing.status_code == 422 and "decides no plan" in nothing.text
    assert wrong_kind.status_code == 422 and "belongs to a confidential meeting" in wrong_kind.text
    assert by_a_centre.status_code == 422 and "at least one outreach role" in by_a_centre.text
    assert plan.status_code == 201 and plan.json()["purpose"] == "outreach-plan", plan.text
    roles = await referrals_of(services, case["case_id"], 2, "support-plan")
    assert {r["to_agency"] for r in roles} == {CSW[0], "backup-fujisawa-shakyo"}
    async with await services.as_agency(*CSW, service="referral") as csw:
        (outreach,) = [r for r in roles if r["to_agency"] == CSW[0]]
        assert (await csw.post(f"/v1/referrals/{outreach['referral_id']}/accept")).status_code == 200

    # The audit's yearly report counts the meeting under its kind and purpose, as the city reports them.
    async def counted() -> bool:
        async with await services.as_auditor() as audit:
            year = (await audit.get("/v1/yearly", params={"fiscal_year": this_year})).json()
        return bool(year["meetings_held"]["confidential"]["outreach-plan"] == outreach_before + 1)

    await eventually(counted, within=60)  # audit signs each record: the slowest reader under load


async def test_the_figures_count_a_seeded_year_by_kind_purpose_and_state(services: RunningServices) -> None:
    """A year far ahead, seeded with the city's 令和5年度 shape (重層的支援会議 6, mainly ②; 支援会議 9)."""
    fiscal_year = 2093
    start, end = fiscal_year_bounds(fiscal_year)
    seeded = [
        ("consent-based", "participation-plan", "held", 5),
        ("consent-based", "plan-confirmation", "held", 1),
        ("confidential", "no-consent-conference", "held", 4),
        ("confidential", "outreach-plan", "held", 5),
        ("confidential", "outreach-plan", "cancelled", 2),
    ]
    pool = services.runtime("meetings").pool
    async with pool.acquire() as conn, conn.transaction():
        await conn.execute("DELETE FROM meetings WHERE starts_at >= $1 AND starts_at < $2", start, end)
        for kind, purpose, state, count in seeded:
            for number in range(count):
                at = start + timedelta(days=30 + number)
                await conn.execute(
                    "INSERT INTO meetings (meeting_id, case_id, kind, purpose, state, organizer, participants,"
                    " starts_at, ends_at) VALUES ($1, $2, $3, $4, $5, 'backup-fujisawa-shakyo', $6, $7, $8)",
                    uuid.uuid4(),
                    uuid.uuid4(),
                    kind,
                    purpose,
                    state,
                    ["backup-fujisawa-shakyo"],
                    at,
                    at + timedelta(hours=1),
                )
    try:
        async with await services.as_agency(*COORDINATOR, service="meetings") as meetings:
            figures = (await meetings.get("/v1/figures", params={"fiscal_year": fiscal_year})).json()
    finally:
        await pool.execute("DELETE FROM meetings WHERE starts_at >= $1 AND starts_at < $2", start, end)
    assert figures["meetings"] == {"consent-based": {"held": 6}, "confidential": {"held": 9, "cancelled": 2}}
    assert figures["purposes"] == {
        "consent-based": {"plan-confirmation": {"held": 1}, "participation-plan": {"held": 5}},
        "confidential": {"no-consent-conference": {"held": 4}, "outreach-plan": {"held": 5, "cancelled": 2}},
    }
    assert figures["purpose_labels"]["participation-plan"] == "②参加支援につなぐプランの決定"
