"""Staff members signed in at the real identity provider call the services with their access token: they
act for their agency under the same need-to-know rules, and every action names them by subject id."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from devtools.local.keycloak import LocalKeycloak
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.test_identity_provider import begin, claims, code_from, exchange, submit_login

COUNTER = ("chiku-fukushi-katase", AgencyType.DISTRICT_WELFARE_COUNTER)


def sign_in(discovery: dict[str, Any], passwords: dict[str, str], username: str) -> str:
    """A demo staff member's access token, through the real login form (code flow with PKCE)."""
    authorization = begin(discovery)
    redirect = submit_login(authorization, username, passwords[username])
    answer = exchange(discovery, code_from(redirect), authorization.verifier)
    assert answer.status_code == 200, answer.text
    token: str = answer.json()["access_token"]
    return token


async def call(
    services: RunningServices, service: str, method: str, path: str, token: str, **kw: Any
) -> httpx.Response:
    async with services.client(service) as client:  # type: ignore[arg-type]
        return await client.request(method, path, headers={"Authorization": f"Bearer {token}"}, **kw)


async def test_a_centres_staff_member_accepts_a_referral_and_is_named_in_the_event_and_the_timeline(
    services: RunningServices, keycloak: LocalKeycloak, discovery: dict[str, Any], passwords: dict[str, str]
) -> None:
    centre = sign_in(discovery, passwords, "ikiiki-katase")
    counter_staff = sign_in(discovery, passwords, "katase-counter")
    outsider = sign_in(discovery, passwords, "sogo-supervisor")
    auditor = sign_in(discovery, passwords, "city-auditor")
    assert claims(centre)["agency"] == "ikiiki-katase"

    async with await services.as_agency(*COUNTER) as intake:
        answer = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": COUNTER[0],
                "staff_id": "k-9",
                "channel": "counter",
                "district": "katase",
                "domains": ["elderly"],
                "personal": {"person": {"family_name": f"片瀬{uuid.uuid4().hex[:5]}"}},
            },
        )
    assert answer.status_code == 201, answer.text
    case_id = answer.json()["case_id"]

    waiting: list[dict[str, Any]] = []

    async def in_the_inbox() -> bool:
        rows = (await call(services, "referral", "GET", "/v1/inbox", centre)).json()
        waiting[:] = [row for row in rows if row["case_id"] == case_id]
        return bool(waiting)

    await eventually(in_the_inbox, within=30)
    path = f"/v1/referrals/{waiting[0]['referral_id']}"

    assert (await call(services, "referral", "POST", f"{path}/accept", counter_staff)).status_code == 403
    hidden = await call(services, "referral", "GET", path, outsider)
    assert hidden.status_code == 404  # not involved: as for no referral at all
    assert (await call(services, "referral", "GET", path, auditor)).status_code == 401  # no agency's rights
    assert (await call(services, "referral", "GET", path, f"{centre[:-4]}AAAA")).status_code == 401  # forged

    accepted = await call(services, "referral", "POST", f"{path}/accept", centre)
    assert accepted.status_code == 200, accepted.text
    subject = claims(centre)["sub"]
    payload = await services.runtime("referral").pool.fetchval(
        "SELECT payload FROM outbox WHERE topic = 'referral.events.v1' AND headers->>'ce_type' LIKE '%accepted%'"
        " AND convert_from(payload, 'UTF8') LIKE $1",
        f"%{waiting[0]['referral_id']}%",
    )
    assert payload is not None and f'"by_staff":"{subject}"' in bytes(payload).decode()

    async def named_in_the_timeline() -> bool:
        rows = (await call(services, "audit", "GET", "/v1/timeline", auditor, params={"case_id": case_id})).json()
        return any(f"(staff {subject})" in row["who"] for row in rows)

    await eventually(named_in_the_timeline, within=30)
