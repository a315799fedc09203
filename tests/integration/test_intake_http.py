"""intake's HTTP edge: bad input is refused with a clear problem, retries are idempotent."""

from __future__ import annotations

import uuid

from tests.integration.services import RunningServices

VALID = {"receiving_agency": "csw-katase", "channel": "outreach", "district": "katase", "domains": ["withdrawal"]}


async def stored(services: RunningServices) -> tuple[int, int]:
    pool = services.runtime("intake").pool
    return (
        await pool.fetchval("SELECT count(*) FROM consultations"),
        await pool.fetchval("SELECT count(*) FROM outbox"),
    )


async def test_a_malformed_submission_gets_field_level_problem_json_and_nothing_is_stored(
    services: RunningServices,
) -> None:
    before = await stored(services)
    bad = {
        "receiving_agency": "CSW Katase!",
        "channel": "fax",
        "domains": [],
        "urgency": "soon",
        "person_name": "山田 太郎",
    }
    async with services.client("intake") as intake:
        answer = await intake.post("/v1/consultations", json=bad)
        still_serving = await intake.post("/v1/consultations", json=VALID)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 422 and problem["type"].endswith(":validation")
    fields = {error["field"] for error in problem["errors"]}
    assert {
        "body.receiving_agency",
        "body.channel",
        "body.district",
        "body.domains",
        "body.urgency",
        "body.person_name",
    } <= fields
    assert "山田" not in answer.text  # submitted values are never echoed back
    assert still_serving.status_code == 201
    after = await stored(services)
    assert after == (before[0] + 1, before[1] + 1)  # only the valid submission left a row and an event


async def test_a_retried_submission_returns_the_first_answer_and_publishes_nothing_new(
    services: RunningServices,
) -> None:
    key = uuid.uuid4().hex
    async with services.client("intake") as intake:
        first = await intake.post("/v1/consultations", json=VALID, headers={"Idempotency-Key": key})
        before = await stored(services)
        retry = await intake.post("/v1/consultations", json=VALID, headers={"Idempotency-Key": key})
        other = await intake.post(
            "/v1/consultations", json={**VALID, "district": "endo"}, headers={"Idempotency-Key": key}
        )

    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json() == {**first.json(), "replayed": True}
    assert await stored(services) == before
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"


async def test_ready_reports_each_dependency(services: RunningServices) -> None:
    for service in ("intake", "referral", "notify"):
        async with services.client(service) as client:
            answer = await client.get("/ready")
        assert answer.status_code == 200
        assert answer.json() == {"ready": True, "checks": {"database": True, "kafka": True, "outbox_relay": True}}
