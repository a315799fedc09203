"""An agency that writes the ingress topics, and may read no topic, reads the outcome of each record by its
ce_id: accepted or applied with the ids it created, rejected with each reason of the rejection event; any
other agency, and anyone for an unknown or unverifiable record, gets the same 404."""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from backbone.settings import ServiceName
from schemas.events import IngressRejection, ReferralActionRejected, SubmissionRejected
from schemas.topics import INTAKE_EVENTS, INTAKE_SUBMISSIONS, REFERRAL_EVENTS, REFERRAL_RESPONSES
from schemas.vocabulary import AgencyType
from tests.integration.ingress import ce_id, sealed_submission, signed_action
from tests.integration.kafka_tools import end_offsets, eventually, produce, read_from
from tests.integration.services import RunningServices
from tests.integration.test_ingress import AGENCY, FACTS, PERSONAL
from tests.integration.test_referral_loop import consult, open_referral

OTHER = ("seishin-hoken", AgencyType.MENTAL_HEALTH)


async def outcome(services: RunningServices, service: ServiceName, token: str | None, path: str) -> httpx.Response:
    async with services.client(service) as client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return await client.get(path, headers=headers)


async def readable(services: RunningServices, service: ServiceName, token: str, path: str) -> dict[str, Any]:
    """The outcome, once the service has processed the record."""
    found: list[httpx.Response] = []

    async def answered() -> bool:
        found[:] = [await outcome(services, service, token, path)]
        return found[0].status_code == 200

    await eventually(answered)
    body: dict[str, Any] = found[0].json()
    return body


async def published_reasons(
    bootstrap: str, since: dict[int, int], model: type[IngressRejection], id_field: str, record_id: str
) -> list[dict[str, str]]:
    """The reasons of the rejection event published for one ingress record, as the outcome lists them."""

    def rejections(records: list[Any]) -> list[Any]:
        found = [
            model.model_validate_json(r.value) for r in records if dict(r.headers).get("ce_type") == model.TYPE.encode()
        ]
        return [event for event in found if getattr(event, id_field) == record_id]

    records = await read_from(bootstrap, model.TOPIC.name, since, until=rejections)
    (event,) = rejections(records)
    return [reason.model_dump() for reason in event.reasons]


async def refused_alike(services: RunningServices, service: ServiceName, calls: list[tuple[str, str]]) -> None:
    """Each (token, path) gets the one 404 answer: nothing tells an unknown record from another agency's."""
    answers = [await outcome(services, service, token, path) for token, path in calls]
    assert {answer.status_code for answer in answers} == {404}, [answer.text for answer in answers]
    assert len({answer.text for answer in answers}) == 1
    assert answers[0].headers["content-type"].startswith("application/problem+json")
    assert "retry" in answers[0].json()["detail"]


async def test_a_submitter_reads_each_submissions_outcome_and_nobody_else_does(
    services: RunningServices, bootstrap: str
) -> None:
    token, other = await services.token(*AGENCY), await services.token(*OTHER)
    async with services.client("intake") as intake:
        public_key = (await intake.get("/v1/keys/submission")).json()["public_key"]
    since = await end_offsets(bootstrap, INTAKE_EVENTS.name)
    forged = sealed_submission(f"{AGENCY[0]}.not-our-secret", FACTS, None, public_key)
    good = sealed_submission(token, FACTS, PERSONAL, public_key)
    invalid = sealed_submission(token, {**FACTS, "district": "hakone", "channel": "pigeon"}, None, public_key)
    # A ce_id of words would be repeated in its outcome and on the bus: dead-lettered, never answered.
    worded = sealed_submission(token, FACTS, PERSONAL, public_key, submission_id="山田花子さんの件")
    # Keyed by the agency: one partition, applied in order, so once `invalid` is answered the others were.
    await produce(bootstrap, INTAKE_SUBMISSIONS.name, [forged, worded, good, invalid])

    refused = await readable(services, "intake", token, f"/v1/submissions/{ce_id(invalid)}")
    accepted = await readable(services, "intake", token, f"/v1/submissions/{ce_id(good)}")

    assert accepted["outcome"] == "accepted" and accepted["submission_id"] == ce_id(good)
    stored = await services.runtime("intake").pool.fetchrow(
        "SELECT case_id, person_id, event_id, receiving_agency FROM consultations WHERE consultation_id = $1",
        uuid.UUID(accepted["consultation_id"]),
    )
    assert stored is not None
    assert (str(stored["case_id"]), str(stored["person_id"]), str(stored["event_id"]), stored["receiving_agency"]) == (
        accepted["case_id"],
        accepted["person_id"],
        accepted["event_id"],
        AGENCY[0],
    )
    assert refused["outcome"] == "rejected" and refused["submission_id"] == ce_id(invalid)
    assert sorted(reason["field"] for reason in refused["reasons"]) == ["body.channel", "body.district"]
    assert all(reason["message"] for reason in refused["reasons"])
    assert refused["reasons"] == await published_reasons(
        bootstrap, since, SubmissionRejected, "submission_id", ce_id(invalid)
    )

    await refused_alike(
        services,
        "intake",
        [
            (other, f"/v1/submissions/{ce_id(good)}"),
            (other, f"/v1/submissions/{ce_id(invalid)}"),
            (token, f"/v1/submissions/{uuid.uuid4()}"),
            (token, f"/v1/submissions/{ce_id(forged)}"),  # dead-lettered: its sender is not known
            (token, f"/v1/submissions/{ce_id(worded)}"),  # dead-lettered: its ce_id is not an id
        ],
    )
    assert (await outcome(services, "intake", None, f"/v1/submissions/{ce_id(good)}")).status_code == 401
    assert (
        await outcome(services, "intake", f"{AGENCY[0]}.wrong", f"/v1/submissions/{ce_id(good)}")
    ).status_code == 401


async def test_an_agency_reads_the_outcome_of_its_actions_on_referrals_and_a_retry_keeps_the_first(
    services: RunningServices, bootstrap: str
) -> None:
    since = await end_offsets(bootstrap, REFERRAL_EVENTS.name)
    case_id = (await consult(services, ["elderly"]))["case_id"]
    referral = await open_referral(services, case_id)
    assert referral["to_agency"] == "ikiiki-endo"
    mine = await services.token("ikiiki-endo", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    theirs = await services.token("ikiiki-kikan", AgencyType.CORE_COMMUNITY_SUPPORT_CENTRE)
    referral_id = referral["referral_id"]
    accept = {"referral_id": referral_id, "action": "accept"}
    trespass, accepted = signed_action(theirs, accept), signed_action(mine, accept)
    started = signed_action(mine, {"referral_id": referral_id, "action": "start"})
    # The accept again, now that the referral has started (where an accept no longer fits), then a marker.
    completed = signed_action(mine, {"referral_id": referral_id, "action": "complete", "outcome": "resolved"})
    await produce(bootstrap, REFERRAL_RESPONSES.name, [trespass, accepted, started, accepted, completed])

    await readable(services, "referral", mine, f"/v1/actions/{ce_id(completed)}")
    applied = await readable(services, "referral", mine, f"/v1/actions/{ce_id(accepted)}")
    refused = await readable(services, "referral", theirs, f"/v1/actions/{ce_id(trespass)}")

    assert applied["outcome"] == "applied" and applied["action_id"] == ce_id(accepted)
    assert (applied["referral_id"], applied["action"]) == (referral_id, "accept")
    pool = services.runtime("referral").pool
    assert await pool.fetchval("SELECT state FROM referrals WHERE referral_id = $1", uuid.UUID(referral_id)) == (
        "completed"
    )
    assert refused["outcome"] == "rejected" and refused["action_id"] == ce_id(trespass)
    assert [reason["field"] for reason in refused["reasons"]] == ["body.referral_id"]
    assert refused["reasons"] == await published_reasons(
        bootstrap, since, ReferralActionRejected, "action_id", ce_id(trespass)
    )
    # The retried accept got its first outcome; it was not refused for the state it found.
    assert not await pool.fetchval("SELECT count(*) FROM rejected_actions WHERE action_id = $1", ce_id(accepted))

    await refused_alike(
        services,
        "referral",
        [
            (theirs, f"/v1/actions/{ce_id(accepted)}"),
            (mine, f"/v1/actions/{ce_id(trespass)}"),
            (mine, f"/v1/actions/{uuid.uuid4()}"),
        ],
    )
    assert (await outcome(services, "referral", None, f"/v1/actions/{ce_id(accepted)}")).status_code == 401
