"""referral's inbox in pages, as the workbench reads it: urgent first then by deadline, `limit`/`offset` with the
count of all in X-Total-Count, and `since` for the referrals that arrived after a moment (the inbox's 新着)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from backbone import directory
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.workbench_browser import CENTRE_STAFF, COUNTER


async def submit(services: RunningServices, urgency: str) -> str:
    async with await services.as_agency(*COUNTER) as intake:
        answer = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": COUNTER[0],
                "staff_id": "pages",
                "channel": "counter",
                "district": "katase",
                "domains": ["elderly"],
                "urgency": urgency,
            },
        )
    assert answer.status_code == 201, answer.text
    return str(answer.json()["case_id"])


def order_of(referral: dict[str, Any]) -> tuple[bool, str]:
    return referral["urgency"] != "urgent", referral["respond_by"]


async def test_the_inbox_comes_in_pages_in_working_order_with_its_count_and_its_new_arrivals(
    services: RunningServices,
) -> None:
    centre = directory.load().agencies[CENTRE_STAFF]
    inbox = await services.as_agency(centre.id, centre.type, "referral")
    since = datetime.now(UTC)
    cases = {await submit(services, "normal"), await submit(services, "urgent"), await submit(services, "normal")}
    arrived: list[dict[str, Any]] = []

    async def all_arrived() -> bool:
        answer = await inbox.get("/v1/inbox", params={"since": since.isoformat()})
        arrived[:] = answer.json()
        return cases <= {r["case_id"] for r in arrived}

    await eventually(all_arrived, within=30)
    whole = await inbox.get("/v1/inbox")
    everything = whole.json()
    total = int(whole.headers["X-Total-Count"])
    assert total == len(everything) >= 3
    assert [order_of(r) for r in everything] == sorted(order_of(r) for r in everything)  # urgent, then deadline
    # Only what was proposed after the moment (the workbench's 新着): not what waited before it.
    earlier = {r["referral_id"] for r in everything} - {r["referral_id"] for r in arrived}
    assert {r["case_id"] for r in everything if r["referral_id"] in earlier}.isdisjoint(cases)
    later = await inbox.get("/v1/inbox", params={"since": datetime.now(UTC).isoformat()})
    assert later.json() == [] and later.headers["X-Total-Count"] == "0"

    first = await inbox.get("/v1/inbox", params={"limit": 2, "offset": 0})
    second = await inbox.get("/v1/inbox", params={"limit": 2, "offset": 2})
    assert int(first.headers["X-Total-Count"]) == int(second.headers["X-Total-Count"]) == total
    paged = [r["referral_id"] for r in first.json() + second.json()]
    assert paged == [r["referral_id"] for r in everything[:4]]
    beyond = await inbox.get("/v1/inbox", params={"limit": 2, "offset": total + 10})
    assert beyond.json() == [] and int(beyond.headers["X-Total-Count"]) == total

    for wrong in ({"limit": 0}, {"limit": 1001}, {"offset": -1}, {"offset": 10**22}, {"since": "yesterday"}):
        refused: httpx.Response = await inbox.get("/v1/inbox", params=wrong)
        assert refused.status_code == 422, (wrong, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    await inbox.aclose()
