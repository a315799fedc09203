"""アウトリーチ等を通じた継続的支援 on the real stack: an outreach plan of a 支援会議 opens an engagement held by the
district CSW with 社協; contact attempts, the contact, the consent and the handover to a plan are recorded as
codes on the bus (the worker's words stay in referral); a quiet engagement puts the case on the at-risk list."""

from __future__ import annotations

import json
import uuid
from typing import Any

from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.meeting_steps import (
    COORDINATOR,
    COUNTER,
    EVERYONE_FOR_MEETINGS,
    at_risk_reasons,
    confirm,
    coordinator,
    held,
    multi_agency_case,
    proposed_meeting,
    role,
)
from tests.integration.services import RunningServices

CSW = ("csw-kugenuma", AgencyType.DISTRICT_CSW)
NOTE = "玄関先で姉と話した"  # the worker's words: kept in referral, never published


async def outreach_of(services: RunningServices, case_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    async def opened() -> bool:
        async with await services.as_agency(*CSW, service="referral") as referral:
            found[:] = (await referral.get("/v1/outreach", params={"case_id": case_id})).json()
        return len(found) == 1

    await eventually(opened, within=30)
    return found[0]


async def test_an_outreach_plan_becomes_an_engagement_from_attempts_to_consent_to_a_plan(
    services: RunningServices,
) -> None:
    case = await multi_agency_case(services, consent=None)
    await proposed_meeting(services, case["case_id"])
    async with await coordinator(services) as meetings:
        asked = await meetings.post(
            "/v1/meetings",
            json={"case_id": case["case_id"], "kind": "confidential", "purpose": "outreach-plan",
                  "participants": [COORDINATOR[0], CSW[0]]},
        )  # fmt: skip
        assert asked.status_code == 201, asked.text
        await held(services, meetings, asked.json()["meeting_id"])
        plan = await confirm(
            meetings, asked.json()["meeting_id"], "接触を試みる", role(CSW[0], "outreach"), role(COORDINATOR[0], "lead")
        )
    assert plan.status_code == 201, plan.text

    # The plan's outreach role is held by the CSW, with 社協 beside it.
    engagement = await outreach_of(services, case["case_id"])
    assert (engagement["holder"], engagement["partner"], engagement["state"]) == (CSW[0], COORDINATOR[0], "attempting")
    assert engagement["plan_id"] == plan.json()["plan_id"]
    url = f"/v1/outreach/{engagement['outreach_id']}"
    async with await services.as_agency(*CSW, service="referral") as csw:
        first = await csw.post(f"{url}/attempts", json={"method": "visit", "result": "no-answer"})
        second = await csw.post(f"{url}/attempts", json={"method": "via-family", "result": "left-word", "note": NOTE})
        too_early = await csw.post(f"{url}/consent")
        reached = await csw.post(f"{url}/contact")
        not_yet = await csw.post(f"{url}/end", json={"ending": "handed-over"})
    assert first.status_code == second.status_code == 200 and second.json()["attempts"] == 2
    assert too_early.status_code == 409 and "record the contact first" in too_early.text
    assert reached.status_code == 200 and reached.json()["state"] == "in-contact"
    assert not_yet.status_code == 409 and "needs the person's consent" in not_yet.text
    async with await services.as_agency("ikiiki-endo", AgencyType.COMMUNITY_SUPPORT_CENTRE, "referral") as outsider:
        assert (await outsider.get(url)).status_code == 404  # need to know

    # Quiet too long: at risk, with why; a further attempt takes it off the list.
    pool = services.runtime("referral").pool
    assert await at_risk_reasons(services, case["case_id"]) == []
    await pool.execute(
        "UPDATE outreach SET quiet_until = now() - interval '1 minute' WHERE outreach_id = $1",
        uuid.UUID(engagement["outreach_id"]),
    )
    (reason,) = await at_risk_reasons(services, case["case_id"])
    assert reason.startswith("outreach: no contact attempt since ")
    async with await services.as_agency(*CSW, service="referral") as csw:
        assert (await csw.post(f"{url}/attempts", json={"method": "phone", "result": "brief-contact"})).is_success
    assert await at_risk_reasons(services, case["case_id"]) == []

    # The person consents (recorded with intake), and the engagement is handed over to a plan.
    async with await services.as_agency(*COUNTER) as intake:
        given = await intake.post(f"/v1/persons/{case['person_id']}/consents", json=EVERYONE_FOR_MEETINGS)
    assert given.status_code == 201, given.text
    async with await services.as_agency(*COORDINATOR, service="referral") as shakyo:
        assert (await shakyo.post(f"{url}/consent")).json()["state"] == "consented"
        done = await shakyo.post(f"{url}/end", json={"ending": "handed-over"})
        whole = (await shakyo.get(url)).json()
    assert done.status_code == 200 and done.json()["state"] == "ended" and done.json()["ending"] == "handed-over"
    assert [a["method"] for a in whole["history"]] == ["visit", "via-family", "phone"]
    assert whole["history"][1]["note"] == NOTE

    # On the bus: each step as codes, who held it, and never the worker's words.
    rows = await pool.fetch(
        "SELECT headers->>'ce_type' AS type, convert_from(payload, 'UTF8') AS body FROM outbox"
        " WHERE record_key = $1 AND headers->>'ce_type' LIKE '%referral.outreach.%' ORDER BY seq",
        case["case_id"],
    )
    steps = [row["type"].split(".")[-2] for row in rows]
    assert steps == ["started", *["contact-attempted"] * 2, "contact-made", "contact-attempted", "consent-obtained",
                     "ended"]  # fmt: skip
    assert all(NOTE not in row["body"] for row in rows)
    assert json.loads(rows[2]["body"])["result"] == "left-word"
