"""Object-level authorization: every endpoint that acts on one case's object, called by every agency of
the directory that is not entitled to it, answers 403 or 404, never 2xx — and the audit API answers
agencies at all with 403.

Entitled, per object (the rules live in the services; this test only lists who they name):
- a referral: the referred agency answers and works it; the referring counter and the coordinators may
  cancel it;
- a meeting: its organizer, its participants and the coordinators;
- a notification: the agency it was sent to;
- a person's data: only agencies a consent covers (this case has none, so nobody);
- the audit API: auditors only.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from backbone import directory
from backbone.ratelimit import AgencyLimiter
from backbone.settings import ServiceName
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.test_meetings import consent_based_proposal
from tests.integration.test_notify import consult as urgent_consultation
from tests.integration.test_notify import deliveries
from tests.integration.test_referral_loop import open_referral

AGENCIES = directory.load().agencies
COORDINATORS = {agency.id for agency in directory.load().coordinators()}
REFUSED = {401, 403, 404}
PLAN = {
    "goals": ["g"],
    "roles": [{"agency": "ikiiki-kugenuma", "responsibility": "lead", "domain": "elderly"}],
    "review_on": "2027-04-01",
}


async def refused_to_everyone_but(
    services: RunningServices,
    service: ServiceName,
    entitled: Iterable[str],
    calls: list[tuple[str, str, dict[str, Any] | None]],
) -> int:
    """Each call, by each agency not in `entitled`; returns how many were made."""
    made = 0
    allowed = set(entitled)
    for agency in AGENCIES.values():
        if agency.id in allowed:
            continue
        async with await services.as_agency(agency.id, agency.type, service) as client:
            for method, path, body in calls:
                answer = await client.request(method, path, json=body)
                assert answer.status_code in REFUSED, (agency.id, method, path, answer.status_code, answer.text)
                assert answer.headers["content-type"].startswith("application/problem+json"), (path, answer.text)
                made += 1
    return made


async def test_nobody_but_the_entitled_may_touch_a_referral_a_meeting_a_notification_or_a_person(
    services: RunningServices,
) -> None:
    # A referral and its notification: an urgent single-domain consultation in 片瀬.
    case_id = await urgent_consultation(services, "katase", ["elderly"], "片瀬試験")
    referral = await open_referral(services, case_id)
    url = f"/v1/referrals/{referral['referral_id']}"
    made = await refused_to_everyone_but(
        services,
        "referral",
        {referral["to_agency"], "chiku-fukushi-katase", *COORDINATORS},
        [
            ("POST", f"{url}/accept", None),
            ("POST", f"{url}/start", None),
            ("POST", f"{url}/decline", {"reason": "other"}),
            ("POST", f"{url}/complete", {"outcome": "resolved"}),
            ("POST", f"{url}/cancel", {"reason": "test"}),
        ],
    )

    await eventually(lambda: deliveries(services, case_id), within=30)
    (notification,) = [d for d in await deliveries(services, case_id) if d["category"] == "referral-proposed"]
    made += await refused_to_everyone_but(
        services,
        "notify",
        {notification["recipient_agency"]},
        [("POST", f"/v1/notifications/{notification['notification_id']}/acknowledge", None)],
    )

    # A meeting: a multi-agency case in 鵠沼 with consent for meetings.
    _case, proposal = await consent_based_proposal(services)
    meeting = f"/v1/meetings/{proposal['meeting_id']}"
    made += await refused_to_everyone_but(
        services,
        "meetings",
        {proposal["organizer"], *proposal["participants"], *COORDINATORS},
        [
            ("GET", meeting, None),
            ("GET", f"{meeting}/invitation.ics", None),
            ("POST", f"{meeting}/schedule", {}),
            ("POST", f"{meeting}/held", {}),
            ("POST", f"{meeting}/cancel", {"reason": "test"}),
            ("POST", f"{meeting}/plan", PLAN),
        ],
    )

    # A person without any consent: nobody may read her, whoever asks.
    async with await services.as_agency("chiku-fukushi-katase", AgencyType.DISTRICT_WELFARE_COUNTER) as counter:
        anonymous = await counter.post(
            "/v1/consultations",
            json={
                "receiving_agency": "chiku-fukushi-katase",
                "staff_id": "m-1",
                "channel": "phone",
                "district": "katase",
                "domains": ["elderly"],
                "personal": {"person": {"family_name": f"同意なし{uuid.uuid4().hex[:4]}"}},
            },
        )
    assert anonymous.status_code == 201
    unconsented = f"/v1/persons/{anonymous.json()['person_id']}"
    made += await refused_to_everyone_but(services, "intake", set(), [("GET", f"{unconsented}?purpose=support", None)])

    # The audit API: no agency at all.
    made += await refused_to_everyone_but(
        services,
        "audit",
        set(),
        [
            ("GET", f"/v1/timeline?case_id={case_id}", None),
            ("GET", f"/v1/timeline.csv?case_id={case_id}", None),
            ("GET", "/v1/disclosures", None),
            ("GET", "/v1/unanswered", None),
            ("GET", "/v1/yearly?fiscal_year=2026", None),
        ],
    )
    assert made >= 60 * 18  # every outsider, every call


async def test_an_agency_over_its_rate_is_answered_429_with_retry_after_and_others_are_not(
    services: RunningServices,
) -> None:
    runtime = services.runtime("referral")
    usual = runtime.limiter
    runtime.limiter = AgencyLimiter(rate=1, burst=2)
    try:
        async with await services.as_agency("ikiiki-endo", AgencyType.COMMUNITY_SUPPORT_CENTRE, "referral") as busy:
            answers = [await busy.get("/v1/inbox") for _ in range(4)]
        async with await services.as_agency("ikiiki-meiji", AgencyType.COMMUNITY_SUPPORT_CENTRE, "referral") as other:
            calm = await other.get("/v1/inbox")
    finally:
        runtime.limiter = usual
    assert [a.status_code for a in answers[:2]] == [200, 200]
    refused = answers[2]
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert "ikiiki-endo" in refused.json()["detail"]
    assert calm.status_code == 200
