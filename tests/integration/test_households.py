"""Households (世帯) on the real stack: an 8050 household's parent and child are one case's concern, each with
their own consent.

The mother (in her 80s) consults 鵠沼's counter about her own care and consents to every programme agency. A
week later she tells the counter about her son (in his 50s), who has not left the house for years: the counter
submits his consultation, brought by the family, naming the household. His case is hers; his referral is about
him; nothing of his is disclosed on her consent; the case meeting is a 支援会議 until he consents himself.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.meeting_steps import COUNTER, EVERYONE_FOR_MEETINGS, proposed_meeting
from tests.integration.services import RunningServices

CSW = ("csw-kugenuma", AgencyType.DISTRICT_CSW)


def _consultation(name: str, born: str, domains: list[str], **more: Any) -> dict[str, Any]:
    return {
        "receiving_agency": COUNTER[0],
        "staff_id": "g-8",
        "channel": "counter",
        "district": "kugenuma",
        "domains": domains,
        "personal": {"person": {"family_name": name, "given_name": "x", "birth_date": born}},
        **more,
    }


async def _submit(client: httpx.AsyncClient, body: dict[str, Any]) -> dict[str, Any]:
    answer = await client.post("/v1/consultations", json=body)
    assert answer.status_code == 201, answer.text
    accepted: dict[str, Any] = answer.json()
    return accepted


async def test_an_8050_household_is_one_case_of_two_people_with_separate_consents(services: RunningServices) -> None:
    family = f"鵠沼{uuid.uuid4().hex[:6]}"
    async with await services.as_agency(*COUNTER) as intake:
        mother = await _submit(
            intake,
            _consultation(
                family, "1943-05-05", ["elderly"], consent=EVERYONE_FOR_MEETINGS, household={"relation": "head"}
            ),
        )
        assert mother["new_case"] and mother["household_id"] is not None
        son = await _submit(
            intake,
            _consultation(
                family,
                "1973-07-07",
                ["withdrawal"],
                consulted_by="family",
                household={"household_id": mother["household_id"], "relation": "child"},
            ),
        )
        # One case, the household's; two persons.
        assert son["case_id"] == mother["case_id"] and not son["new_case"]
        assert son["household_id"] == mother["household_id"] and son["person_id"] != mother["person_id"]

        # Consent is each person's own: the mother's says nothing about her son.
        def read(person: dict[str, Any]) -> Any:
            return intake.get(f"/v1/persons/{person['person_id']}", params={"purpose": "support"})

        assert (await read(mother)).status_code == 200
        assert (await read(son)).status_code == 403

    # Each referral is about one person; the son's theme brings the household's needs to one table together.
    pool = services.runtime("referral").pool
    case_id = uuid.UUID(mother["case_id"])

    async def both_referred() -> bool:
        rows = await pool.fetch("SELECT 1 FROM referrals WHERE case_id = $1 AND attempt = 1", case_id)
        return len(rows) == 2

    await eventually(both_referred, within=30)
    domains = {
        str(row["referral_id"]): tuple(row["domains"])
        for row in await pool.fetch("SELECT referral_id, domains FROM referrals WHERE case_id = $1", case_id)
    }
    async with await services.as_agency(*COUNTER, service="referral") as referral:
        views = (await referral.get("/v1/referrals", params={"case_id": mother["case_id"]})).json()
    about = {domains[view["referral_id"]]: view["person_id"] for view in views}
    assert about == {("elderly",): mother["person_id"], ("withdrawal",): son["person_id"]}

    # The meeting speaks of both; the son has not consented, so it is a 支援会議 (whichever of his consultation
    # and the coordination request reached meetings first), with the elderly domain's agency at the table too.
    meetings = services.runtime("meetings").pool

    async def confidential() -> bool:
        kind = await meetings.fetchval("SELECT kind FROM meetings WHERE case_id = $1", case_id)
        return kind == "confidential"

    await eventually(confidential, within=30)
    proposal = await proposed_meeting(services, mother["case_id"])
    assert "ikiiki-kugenuma" in proposal["participants"], proposal

    # When the son consents himself, the meeting becomes a 重層的支援会議 and his data may be read.
    async with await services.as_agency(*COUNTER) as intake:
        answer = await intake.post(f"/v1/persons/{son['person_id']}/consents", json=EVERYONE_FOR_MEETINGS)
        assert answer.status_code == 201, answer.text

        async def consent_based() -> bool:
            kind = await meetings.fetchval("SELECT kind FROM meetings WHERE case_id = $1", case_id)
            return kind == "consent-based"

        await eventually(consent_based, within=30)
        assert (await intake.get(f"/v1/persons/{son['person_id']}", params={"purpose": "support"})).status_code == 200


async def test_an_agency_names_only_a_household_it_is_involved_in(services: RunningServices) -> None:
    async with await services.as_agency(*COUNTER) as intake:
        started = await _submit(
            intake, _consultation(f"鵠沼{uuid.uuid4().hex[:6]}", "1940-01-01", ["elderly"], household={})
        )
    household = started["household_id"]
    body = {
        **_consultation(f"片瀬{uuid.uuid4().hex[:6]}", "1970-01-01", ["withdrawal"]),
        "receiving_agency": CSW[0],
        "household": {"household_id": household},
    }
    pool = services.runtime("intake").pool
    before = await pool.fetchval("SELECT count(*) FROM consultations")
    async with await services.as_agency(*CSW) as intake:
        for named in (household, str(uuid.uuid4())):  # another's household and none at all: refused alike
            refused = await intake.post("/v1/consultations", json={**body, "household": {"household_id": named}})
            assert refused.status_code == 422, refused.text
            assert refused.json()["title"] == "Unknown household"
            assert "leave household_id out" in refused.json()["detail"]
    assert await pool.fetchval("SELECT count(*) FROM consultations") == before  # nothing half-stored
