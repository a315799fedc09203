"""The audit service on the real broker and database: every event once, a referral's hand-offs end to end,
and the auditors' API and page for the auditor role only, every query recorded."""

from __future__ import annotations

import uuid
from typing import Any

from aiokafka import TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from schemas.topics import INTAKE_EVENTS, MEETINGS_EVENTS, NOTIFY_EVENTS, REFERRAL_EVENTS, dead_letter_topic
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import end_offsets, eventually, produce, read_from
from tests.integration.services import RunningServices

TOPICS = [INTAKE_EVENTS.name, REFERRAL_EVENTS.name, MEETINGS_EVENTS.name, NOTIFY_EVENTS.name]
COUNTER = ("chiku-fukushi-shonandai", AgencyType.DISTRICT_WELFARE_COUNTER)
COORDINATORS = {"backup-fujisawa-shakyo": AgencyType.SELF_RELIANCE_COUNCIL, "backup-fujisawa": AgencyType.SELF_RELIANCE}


async def auditor(services: RunningServices) -> Any:
    return await services.as_auditor()


async def test_a_referral_is_traced_through_decline_reroute_acceptance_meeting_and_notification(
    services: RunningServices, bootstrap: str
) -> None:
    since = {topic: await end_offsets(bootstrap, topic) for topic in TOPICS}
    async with await services.as_agency(*COUNTER) as intake:
        answer = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": COUNTER[0],
                "staff_id": "s-9",
                "channel": "outreach",
                "district": "shonandai",
                "domains": ["elderly", "withdrawal"],
            },
        )
    case_id = answer.json()["case_id"]
    pool = services.runtime("referral").pool
    await eventually(lambda: pool.fetchval("SELECT 1 FROM referrals WHERE case_id = $1", uuid.UUID(case_id)))
    first = await pool.fetchrow("SELECT referral_id, to_agency FROM referrals WHERE case_id = $1", uuid.UUID(case_id))
    async with await services.as_agency(first["to_agency"], COORDINATORS[first["to_agency"]], "referral") as lead:
        assert (
            await lead.post(f"/v1/referrals/{first['referral_id']}/decline", json={"reason": "no-capacity"})
        ).status_code == 200
    second = await pool.fetchrow(
        "SELECT referral_id, to_agency FROM referrals WHERE case_id = $1 AND attempt = 2", uuid.UUID(case_id)
    )
    async with await services.as_agency(second["to_agency"], COORDINATORS[second["to_agency"]], "referral") as lead:
        assert (await lead.post(f"/v1/referrals/{second['referral_id']}/accept")).status_code == 200

    # What was published for the case, read straight from Kafka ...
    def published(records: list[Any]) -> set[tuple[str, str]]:
        return {
            (r.topic, dict(r.headers)["ce_id"].decode())
            for r in records
            if dict(r.headers).get("ce_correlationid") == case_id.encode()
        }

    on_kafka: set[tuple[str, str]] = set()
    for topic in TOPICS:
        on_kafka |= published(await read_from(bootstrap, topic, since[topic], until=lambda _: False, within=1.5))
    audit_pool = services.runtime("audit").pool

    async def in_ledger() -> set[tuple[str, str]]:
        rows = await audit_pool.fetch("SELECT topic, event_id FROM ledger WHERE case_id = $1", case_id)
        return {(r["topic"], r["event_id"]) for r in rows}

    await eventually(lambda: _covers(in_ledger, on_kafka), within=30)
    assert await in_ledger() == on_kafka  # ... is exactly what the ledger holds for it

    async with await auditor(services) as audit:
        by_case = (await audit.get("/v1/timeline", params={"case_id": case_id, "language": "en"})).json()
        by_referral = (await audit.get("/v1/timeline", params={"referral_id": str(first["referral_id"])})).json()
    whats = [row["what"] for row in by_case]
    for step in (
        "consultation received",
        "referral proposed",
        "notification delivered",
        "referral declined",
        "referral accepted",
        "lead agency assigned",
        "coordination requested",
        "meeting requested",
    ):
        assert step in whats, f"{step} missing from {whats}"
    assert whats.index("referral declined") < whats.index("referral accepted")
    assert {row["trace_id"] for row in by_case if row["what"] == "consultation received"} != {""}
    referral_steps = [row["what"] for row in by_referral]
    assert referral_steps[:2] == ["相談受付", "つなぎ提案"] and "辞退" in referral_steps and "通知" in referral_steps

    # A second delivery of an event adds nothing. Wait until audit has consumed past the replay (it commits
    # only what it recorded), then past any dead letter the replay caused; then the ledger must hold the
    # event exactly once, under no topic newly.
    last_seq = await audit_pool.fetchval("SELECT max(seq) FROM ledger")
    topic, event_id = sorted(on_kafka)[0]
    records = await read_from(bootstrap, topic, since[topic], until=lambda _: False, within=1.0)
    (original,) = [r for r in records if dict(r.headers)["ce_id"].decode() == event_id]
    before = await end_offsets(bootstrap, topic)
    await produce(bootstrap, topic, [(original.key, original.value, list(original.headers))])
    assert await _audit_consumed_since(bootstrap, topic, before)  # the replay's partition, at least
    await _audit_consumed_since(bootstrap, dead_letter_topic("audit").name, {})  # every letter there is
    assert await audit_pool.fetchval("SELECT count(*) FROM ledger WHERE event_id = $1", event_id) == 1
    assert (
        await audit_pool.fetchval("SELECT count(*) FROM ledger WHERE seq > $1 AND event_id = $2", last_seq, event_id)
        == 0
    )


async def _audit_consumed_since(bootstrap: str, topic: str, before: dict[int, int]) -> dict[int, int]:
    """Wait until audit's consumer group has committed every record appended to `topic` since `before` (and
    up to now): it commits only after the records were recorded in the ledger. Returns the partitions that
    had grown, with the offsets waited for."""
    now = await end_offsets(bootstrap, topic)
    grown = {partition: end for partition, end in now.items() if end > before.get(partition, 0)}
    await eventually(lambda: _consumed(bootstrap, "audit", topic, grown), within=30)
    return grown


async def _consumed(bootstrap: str, group: str, topic: str, ends: dict[int, int]) -> bool:
    """Whether `group` has committed, on every partition of `topic`, an offset at or past `ends`: it commits
    only after the records before it were recorded."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return all(
        (at := committed.get(TopicPartition(topic, partition))) is not None and at.offset >= end
        for partition, end in ends.items()
    )


async def _covers(current: Any, wanted: set[tuple[str, str]]) -> bool:
    return wanted <= await current()


async def test_only_auditors_read_the_ledger_every_query_is_recorded_and_exports_work(
    services: RunningServices,
) -> None:
    async with await services.as_agency(*COUNTER, service="audit") as agency:
        refused = await agency.get("/v1/timeline", params={"case_id": str(uuid.uuid4())})
    async with services.client("audit") as anonymous:
        page = await anonymous.get("/")
        nobody = await anonymous.get("/v1/timeline", params={"case_id": str(uuid.uuid4())})
    assert refused.status_code == 403 and nobody.status_code == 401
    assert page.status_code == 200 and "監査" in page.text and "/v1/timeline" in page.text

    audit_pool = services.runtime("audit").pool
    before = await audit_pool.fetchval("SELECT count(*) FROM ledger WHERE topic = 'audit.queries'")
    async with await auditor(services) as audit:
        assert (await audit.get("/v1/timeline", params={"case_id": str(uuid.uuid4())})).json() == []
        csv = await audit.get("/v1/timeline.csv", params={"trace_id": "0" * 32, "language": "en"})
        assert (await audit.get("/v1/timeline", params={})).status_code == 422
        not_a_trace = await audit.get("/v1/timeline.csv", params={"trace_id": "\U000333bd"})  # once a 500
        assert not_a_trace.status_code == 422 and "trace_id" in not_a_trace.text
        figures = (await audit.get("/v1/yearly", params={"fiscal_year": 2026})).json()
        assert (await audit.get("/v1/unanswered")).status_code == 200
    assert csv.status_code == 200 and csv.text.startswith("seq,time,what,who,why,event_id,caused_by,trace_id,topic")
    assert figures["label"] == "令和8年度"
    after = await audit_pool.fetchval("SELECT count(*) FROM ledger WHERE topic = 'audit.queries'")
    assert after == before + 4  # timeline, csv, yearly, unanswered (the refused one recorded nothing)
