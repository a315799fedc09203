"""The closed loop against the real broker and database: declines re-route until coordination, answers are
idempotent, and only the addressed agency may act."""

from __future__ import annotations

import uuid
from typing import Any

from schemas.events import (
    EVENT_TYPES,
    CaseLeadAssigned,
    CoordinationRequested,
    ReferralAccepted,
    ReferralDeclined,
    ReferralDeclinedV2,
    ReferralProposed,
)
from schemas.topics import REFERRAL_EVENTS
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import end_offsets, eventually, read_from
from tests.integration.services import RunningServices

COUNTER = ("chiku-fukushi-endo", AgencyType.DISTRICT_WELFARE_COUNTER)
AGENCY_TYPES = {
    "ikiiki-endo": AgencyType.COMMUNITY_SUPPORT_CENTRE,
    "ikiiki-kikan": AgencyType.CORE_COMMUNITY_SUPPORT_CENTRE,
    "fukushi-sogo": AgencyType.WELFARE_CONSULTATION_CENTRE,
    "hokubu-fukushi": AgencyType.NORTHERN_WELFARE_OFFICE,
    "backup-fujisawa-shakyo": AgencyType.SELF_RELIANCE_COUNCIL,
    "backup-fujisawa": AgencyType.SELF_RELIANCE,
}


async def consult(services: RunningServices, domains: list[str]) -> dict[str, Any]:
    async with await services.as_agency(*COUNTER) as intake:
        answer = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": COUNTER[0],
                "staff_id": "e-2",
                "channel": "counter",
                "district": "endo",
                "domains": domains,
                "personal": {"person": {"family_name": f"遠藤{uuid.uuid4().hex[:5]}"}},
            },
        )
    assert answer.status_code == 201, answer.text
    result: dict[str, Any] = answer.json()
    return result


async def open_referral(services: RunningServices, case_id: str) -> dict[str, Any]:
    found: list[dict[str, Any]] = []

    async def proposed() -> bool:
        async with await services.as_coordinator("referral") as referral:
            rows = (await referral.get("/v1/referrals", params={"case_id": case_id})).json()
        found[:] = [row for row in rows if row["state"] == "proposed"]
        return bool(found)

    await eventually(proposed, within=30)
    return found[0]


def events_of(records: list[Any], case_id: str) -> list[Any]:
    """The events of one case among the records, typed."""
    ours = [dict(record.headers) | {"value": record.value} for record in records]
    return [
        EVENT_TYPES[h["ce_type"].decode()].model_validate_json(h["value"])
        for h in ours
        if h.get("ce_correlationid") == case_id.encode()
    ]


async def test_each_decline_proposes_the_next_agency_until_the_case_waits_visibly_for_coordination(
    services: RunningServices, bootstrap: str
) -> None:
    since = await end_offsets(bootstrap, REFERRAL_EVENTS.name)
    case_id = (await consult(services, ["elderly"]))["case_id"]
    chain = []
    for _ in range(len(AGENCY_TYPES) + 1):
        referral = await open_referral(services, case_id) if not chain or chain[-1] else None
        if referral is None:
            break
        agency = referral["to_agency"]
        async with await services.as_agency(agency, AGENCY_TYPES[agency], service="referral") as client:
            answer = await client.post(
                f"/v1/referrals/{referral['referral_id']}/decline",
                json={"reason": "no-capacity", "note": "受入れ枠なし"},
            )
        assert answer.status_code == 200, answer.text
        chain.append(agency)
        async with await services.as_agency(*COUNTER, service="referral") as referral_api:
            rows = (await referral_api.get("/v1/referrals", params={"case_id": case_id})).json()
        if not any(row["state"] == "proposed" for row in rows):
            break
    assert chain == [
        "ikiiki-endo",
        "ikiiki-kikan",
        "hokubu-fukushi",
        "fukushi-sogo",
        "backup-fujisawa-shakyo",
        "backup-fujisawa",
    ]
    async with await services.as_agency(*COUNTER, service="referral") as referral_api:
        at_risk = {row["case_id"]: row["reason"] for row in (await referral_api.get("/v1/cases/at-risk")).json()}
    assert at_risk[case_id].startswith("in the coordination queue")

    records = await read_from(
        bootstrap,
        REFERRAL_EVENTS.name,
        since,
        until=lambda got: any(isinstance(e, CoordinationRequested) for e in events_of(got, case_id)),
    )
    events = events_of(records, case_id)
    assert [e.attempt for e in events if isinstance(e, ReferralProposed)] == [1, 2, 3, 4, 5, 6]
    assert [e.agency for e in events if isinstance(e, ReferralDeclined)] == chain
    # Each decline in both versions while readers move to v2 (the deprecation window): the same decline, each once.
    v1s = [e for e in events if isinstance(e, ReferralDeclined)]
    assert [e for e in events if isinstance(e, ReferralDeclinedV2)] == [ReferralDeclinedV2.from_v1(e) for e in v1s]
    (requested,) = [e for e in events if isinstance(e, CoordinationRequested)]
    assert requested.reason == "no-agency-accepted" and "csw-endo" in requested.participants


async def test_an_agency_without_capacity_is_skipped_until_it_withdraws_its_report(services: RunningServices) -> None:
    elderly = ("ikiiki-endo", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    async with await services.as_agency(*elderly, service="referral") as referral:
        full = await referral.put("/v1/agencies/me/capacity", json={"capacity": "none"})
        try:
            skipped = await open_referral(services, (await consult(services, ["elderly"]))["case_id"])
        finally:
            withdrawn = await referral.delete("/v1/agencies/me/capacity")
        entry = next(a for a in (await referral.get("/v1/directory")).json() if a["id"] == elderly[0])
    assert full.status_code == 200 and skipped["to_agency"] != elderly[0]
    assert withdrawn.status_code == 200 and withdrawn.json() == {"agency": elderly[0], "capacity": "available"}
    assert entry["capacity"] == "available"
    routed = await open_referral(services, (await consult(services, ["elderly"]))["case_id"])
    assert routed["to_agency"] == elderly[0]


async def test_answers_are_idempotent_and_only_the_addressed_agency_may_act(
    services: RunningServices, bootstrap: str
) -> None:
    since = await end_offsets(bootstrap, REFERRAL_EVENTS.name)
    case_id = (await consult(services, ["elderly"]))["case_id"]
    referral = await open_referral(services, case_id)
    url = f"/v1/referrals/{referral['referral_id']}"
    async with await services.as_agency("ikiiki-kikan", AgencyType.CORE_COMMUNITY_SUPPORT_CENTRE, "referral") as other:
        assert (await other.post(f"{url}/accept")).status_code == 404  # not involved: as if there were none
    async with await services.as_agency(*COUNTER, service="referral") as counter:
        assert (await counter.post(f"{url}/accept")).status_code == 403  # involved, but not addressed to it
    async with await services.as_agency("ikiiki-endo", AgencyType.COMMUNITY_SUPPORT_CENTRE, "referral") as mine:
        assert (await mine.post(f"{url}/decline", json={})).status_code == 422  # a decline needs its reason
        assert (await mine.post(f"/v1/referrals/{uuid.uuid4()}/accept")).status_code == 404
        first, second = await mine.post(f"{url}/accept"), await mine.post(f"{url}/accept")
        assert first.status_code == second.status_code == 200 and first.json() == second.json()
        assert (await mine.post(f"{url}/decline", json={"reason": "other"})).status_code == 409
        assert (await mine.post(f"{url}/start")).json()["state"] == "in-progress"
        done = await mine.post(f"{url}/complete", json={"outcome": "resolved"})
        assert done.json()["state"] == "completed"

    records = await read_from(
        bootstrap, REFERRAL_EVENTS.name, since, until=lambda got: len(events_of(got, case_id)) >= 5
    )
    events = events_of(records, case_id)
    assert sum(isinstance(e, ReferralAccepted) for e in events) == 1
    (lead,) = [e for e in events if isinstance(e, CaseLeadAssigned)]
    assert lead.lead_agency == "ikiiki-endo"
    assert [type(e).__name__ for e in events] == [
        "ReferralProposed",
        "ReferralAccepted",
        "CaseLeadAssigned",
        "ReferralStarted",
        "ReferralCompleted",
    ]


async def test_a_multi_domain_case_goes_to_coordination_and_asks_for_a_meeting(
    services: RunningServices, bootstrap: str
) -> None:
    since = await end_offsets(bootstrap, REFERRAL_EVENTS.name)
    case_id = (await consult(services, ["elderly", "withdrawal"]))["case_id"]
    referral = await open_referral(services, case_id)
    assert (referral["to_agency"], referral["routing_rule"]) == ("backup-fujisawa-shakyo", "coordination")
    records = await read_from(
        bootstrap,
        REFERRAL_EVENTS.name,
        since,
        until=lambda got: any(isinstance(e, CoordinationRequested) for e in events_of(got, case_id)),
    )
    (requested,) = [e for e in events_of(records, case_id) if isinstance(e, CoordinationRequested)]
    assert requested.reason == "multi-domain"
    assert requested.participants == ("backup-fujisawa-shakyo", "csw-endo", "ikiiki-endo")


async def test_agencies_can_act_over_kafka_and_a_refused_action_is_answered_on_the_topic(
    services: RunningServices, bootstrap: str
) -> None:
    from backbone.agencies import signature  # noqa: PLC0415
    from schemas.events import REFERRAL_ACTION_TYPE, ReferralActionRejected  # noqa: PLC0415
    from tests.integration.kafka_tools import produce  # noqa: PLC0415

    since = await end_offsets(bootstrap, REFERRAL_EVENTS.name)
    case_id = (await consult(services, ["elderly"]))["case_id"]
    referral = await open_referral(services, case_id)
    mine = await services.token("ikiiki-endo", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    theirs = await services.token("ikiiki-kikan", AgencyType.CORE_COMMUNITY_SUPPORT_CENTRE)

    def action(token: str, body: dict[str, Any]) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
        import json  # noqa: PLC0415

        agency, secret = token.split(".", 1)
        value, ce_id = json.dumps(body).encode(), str(uuid.uuid4())
        headers = {
            "ce_id": ce_id,
            "ce_type": REFERRAL_ACTION_TYPE,
            "ce_source": f"/agencies/{agency}",
            "ce_specversion": "1.0",
            "agency": agency,
            "signature": signature(secret, ce_id, value),
        }
        return str(body["referral_id"]).encode(), value, [(k, v.encode()) for k, v in headers.items()]

    accept = {"referral_id": referral["referral_id"], "action": "accept"}
    trespass, accepted = action(theirs, accept), action(mine, accept)
    started = action(mine, {"referral_id": referral["referral_id"], "action": "start"})  # the last one: a marker
    await produce(bootstrap, "referral.responses.v1", [trespass, accepted, accepted, trespass, started])

    def settled(records: list[Any]) -> bool:  # keyed by the referral: one partition, in order, so wait for the marker
        return any(type(e).__name__ == "ReferralStarted" for e in events_of(records, case_id))

    records = await read_from(bootstrap, REFERRAL_EVENTS.name, since, until=settled)
    assert sum(isinstance(e, ReferralAccepted) for e in events_of(records, case_id)) == 1
    rejections = [
        ReferralActionRejected.model_validate_json(r.value)
        for r in records
        if dict(r.headers).get("ce_type") == ReferralActionRejected.TYPE.encode()
    ]
    assert [
        (r.agency, r.reasons[0].field) for r in rejections if r.action_id == dict(trespass[2])["ce_id"].decode()
    ] == [("ikiiki-kikan", "body.referral_id")]  # refused once, however often it is sent
