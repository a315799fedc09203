"""The walking skeleton: a consultation through intake, referral and notify, in one trace."""

from __future__ import annotations

import uuid
from typing import Any

from cloudevents.core.bindings.kafka import KafkaMessage, from_binary
from cloudevents.core.formats.json import JSONFormat
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from schemas.events import ConsultationReceived, NotificationDelivered, ReferralProposed
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import end_offsets, eventually, read_from
from tests.integration.services import RunningServices

SUBMISSION = {
    "receiving_agency": "chiku-fukushi-zengyo",
    "staff_id": "z-1",
    "channel": "phone",
    "district": "zengyo",
    "domains": ["elderly"],
    "urgency": "urgent",
}
CHAIN = (ConsultationReceived, ReferralProposed, NotificationDelivered)


async def test_a_consultation_reaches_the_agency_on_call_in_one_trace(
    services: RunningServices, bootstrap: str, spans: InMemorySpanExporter
) -> None:
    since = {model.TOPIC.name: await end_offsets(bootstrap, model.TOPIC.name) for model in CHAIN}
    async with await services.as_agency("chiku-fukushi-zengyo", AgencyType.DISTRICT_WELFARE_COUNTER) as intake:
        answer = await intake.post("/v1/consultations", json=SUBMISSION, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text
    accepted = answer.json()
    case_id, trace_id = accepted["case_id"], accepted["trace_id"]

    notifications: list[dict[str, Any]] = []

    async def delivered() -> bool:
        async with await services.as_agency("ikiiki-zengyo", AgencyType.COMMUNITY_SUPPORT_CENTRE, "notify") as notify:
            answer = await notify.get("/v1/notifications", params={"case_id": case_id})
        # 404 until notify has heard of the referral that involves the centre (the same answer as for no case).
        notifications[:] = answer.json() if answer.status_code == 200 else []
        return bool(notifications)

    await eventually(delivered, within=30)
    async with services.client("referral") as referral:
        referral.headers["Authorization"] = (
            f"Bearer {await services.token('ikiiki-zengyo', AgencyType.COMMUNITY_SUPPORT_CENTRE)}"
        )
        (proposed,) = (await referral.get("/v1/referrals", params={"case_id": case_id})).json()
    (notification,) = notifications
    assert proposed["to_agency"] == "ikiiki-zengyo" and proposed["routing_rule"] == "domain-elderly"
    assert notification["recipient_agency"] == "ikiiki-zengyo" and notification["urgency"] == "urgent"
    assert proposed["trace_id"] == notification["trace_id"] == trace_id

    def scopes() -> set[str]:
        return {s.instrumentation_scope.name for s in spans.get_finished_spans() if _trace(s) == trace_id}

    await eventually(lambda: {"backbone.intake", "backbone.referral", "backbone.notify"} <= scopes())
    names = {s.name for s in spans.get_finished_spans() if _trace(s) == trace_id}
    assert {
        "POST /v1/consultations",
        "intake.events.v1 publish",
        "intake.events.v1 process",
        "referral.events.v1 publish",
        "referral.events.v1 process",
    } <= names

    # Every record of the case, read back by the official CloudEvents SDK through its Kafka binding.
    events = []
    for model in CHAIN:
        records = await read_from(
            bootstrap,
            model.TOPIC.name,
            since[model.TOPIC.name],
            until=lambda got: any(_case(r) == case_id for r in got),
            within=30,
        )
        (record,) = [r for r in records if _case(r) == case_id]
        event = from_binary(
            KafkaMessage(headers=dict(record.headers), key=record.key, value=record.value), JSONFormat()
        )
        assert event.get_type() == model.TYPE
        assert event.get_extension("correlationid") == case_id
        assert event.get_data()["case_id"] == case_id
        assert record.key == case_id.encode()
        assert dict(record.headers)["traceparent"].decode().split("-")[1] == trace_id
        model.model_validate(event.get_data())
        events.append(event)
    consultation, referral_event, notification_event = events
    assert consultation.get_id() == accepted["event_id"]
    assert referral_event.get_extension("causationid") == consultation.get_id()
    assert notification_event.get_extension("causationid") == referral_event.get_id()


def _trace(span: Any) -> str:
    return format(span.context.trace_id, "032x")


def _case(record: Any) -> str | None:
    value = dict(record.headers).get("ce_correlationid")
    return value.decode() if value else None
