"""intake's HTTP edge: bad input is refused with a clear problem and nothing stored; retries are idempotent."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from schemas.vocabulary import AgencyType
from tests.integration.services import RunningServices

AGENCY = "csw-katase"
VALID = {
    "receiving_agency": AGENCY,
    "staff_id": "k-01",
    "channel": "outreach",
    "district": "katase",
    "domains": ["withdrawal"],
}


async def stored(services: RunningServices) -> tuple[int, int]:
    pool = services.runtime("intake").pool
    return (
        await pool.fetchval("SELECT count(*) FROM consultations"),
        await pool.fetchval("SELECT count(*) FROM outbox"),
    )


@pytest.fixture
async def csw(services: RunningServices) -> httpx.AsyncClient:
    return await services.as_agency(AGENCY, AgencyType.DISTRICT_CSW)


async def test_a_malformed_submission_gets_field_level_problem_json_and_nothing_is_stored(
    services: RunningServices, csw: httpx.AsyncClient
) -> None:
    before = await stored(services)
    bad = {
        "receiving_agency": AGENCY,
        "staff_id": "k-01",
        "channel": "fax",
        "domains": [],
        "urgency": "soon",
        "person_name": "山田 太郎",
        "personal": {"person": {"family_name": "山田", "family_name_kana": "Yamada"}},
    }
    async with csw:
        answer = await csw.post("/v1/consultations", json=bad)
        still_serving = await csw.post("/v1/consultations", json=VALID)

    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    problem = answer.json()
    assert problem["status"] == 422 and problem["type"].endswith(":validation")
    fields = {error["field"] for error in problem["errors"]}
    assert {
        "body.channel",
        "body.district",
        "body.domains",
        "body.urgency",
        "body.person_name",
        "body.personal.person.family_name_kana",
    } <= fields
    assert "山田" not in answer.text and "Yamada" not in answer.text  # submitted values are never echoed back
    assert still_serving.status_code == 201
    assert await stored(services) == (before[0] + 1, before[1] + 1)  # only the valid one left a row and an event


@pytest.mark.parametrize(
    ("body", "status", "needle"),
    [
        (b"{not json", 422, "json_invalid"),
        ('{"receiving_agency": "csw-katase", "staff_id": "\xff"}'.encode("latin-1"), 400, "UTF-8"),
        (
            json.dumps({**VALID, "received_at": (datetime.now(UTC) + timedelta(days=1)).isoformat()}).encode(),
            422,
            "must not be in the future",
        ),
        (json.dumps({**VALID, "personal": {"summary": "あ" * 30_000}}).encode(), 413, "64 KiB"),
        (json.dumps({**VALID, "receiving_agency": "csw-endo"}).encode(), 403, "only in its own name"),
        (json.dumps({**VALID, "district": "yokohama"}).encode(), 422, "body.district"),
    ],
    ids=["malformed-json", "invalid-utf8", "future-timestamp", "oversized", "another-agency", "unknown-district"],
)
async def test_each_kind_of_bad_input_gets_a_specific_error_and_nothing_is_stored(
    services: RunningServices, csw: httpx.AsyncClient, body: bytes, status: int, needle: str
) -> None:
    before = await stored(services)
    async with csw:
        answer = await csw.post("/v1/consultations", content=body, headers={"Content-Type": "application/json"})
    assert answer.status_code == status, answer.text
    assert answer.headers["content-type"] == "application/problem+json"
    assert needle in answer.text
    assert await stored(services) == before


async def test_a_call_without_a_valid_token_is_refused(services: RunningServices) -> None:
    async with services.client("intake") as anonymous:
        missing = await anonymous.post("/v1/consultations", json=VALID)
        forged = await anonymous.post(
            "/v1/consultations", json=VALID, headers={"Authorization": f"Bearer {AGENCY}.not-the-secret"}
        )
    assert missing.status_code == forged.status_code == 401
    assert "Bearer" in missing.json()["detail"]


async def test_a_retried_submission_returns_the_first_answer_and_publishes_nothing_new(
    services: RunningServices, csw: httpx.AsyncClient
) -> None:
    key = uuid.uuid4().hex
    async with csw:
        first = await csw.post("/v1/consultations", json=VALID, headers={"Idempotency-Key": key})
        before = await stored(services)
        retry = await csw.post("/v1/consultations", json=VALID, headers={"Idempotency-Key": key})
        other = await csw.post(
            "/v1/consultations", json={**VALID, "district": "endo"}, headers={"Idempotency-Key": key}
        )

    assert first.status_code == 201 and retry.status_code == 200
    assert retry.json() == {**first.json(), "replayed": True}
    for answer in (first, retry):  # the contract the agency wrote to, and its version
        assert answer.headers["Backbone-Contract"] == "intake.api.consultation-submission.v1; version=1.0"
    assert await stored(services) == before
    assert other.status_code == 409
    assert other.headers["content-type"] == "application/problem+json"


async def test_ready_reports_each_dependency(services: RunningServices) -> None:
    for service in ("intake", "referral", "notify"):
        async with services.client(service) as client:
            answer = await client.get("/ready")
        assert answer.status_code == 200
        checks = answer.json()["checks"]
        assert {"database", "kafka", "outbox_relay"} <= checks.keys() and all(checks.values())
