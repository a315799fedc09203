"""Each service's /metrics against the real broker and database: a consultation shows up in them."""

from __future__ import annotations

import uuid

from prometheus_client.parser import text_string_to_metric_families

from backbone.settings import ServiceName
from schemas.topics import INTAKE_EVENTS
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices

SUBMISSION = {
    "receiving_agency": "chiku-fukushi-zengyo",
    "staff_id": "z-9",
    "channel": "phone",
    "district": "zengyo",
    "domains": ["elderly"],
    "urgency": "urgent",  # urgent: notify sends at once, whatever the hour
}

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(services: RunningServices, service: ServiceName) -> Samples:
    async with services.client(service) as client:
        answer = await client.get("/metrics")
    assert answer.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(answer.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    return sum(
        value for (found, labelled), value in samples.items() if found == name and set(labels.items()) <= labelled
    )


async def test_a_consultation_shows_in_the_services_metrics(services: RunningServices) -> None:
    applied_before = total(
        await scrape(services, "referral"), "backbone_processing_seconds_count", topic=INTAKE_EVENTS.name
    )
    delivered_before = total(await scrape(services, "notify"), "backbone_notification_delivery_seconds_count")

    async with await services.as_agency("chiku-fukushi-zengyo", AgencyType.DISTRICT_WELFARE_COUNTER) as intake:
        answer = await intake.post("/v1/consultations", json=SUBMISSION, headers={"Idempotency-Key": uuid.uuid4().hex})
    assert answer.status_code == 201, answer.text

    async def referral_applied_it() -> bool:
        samples = await scrape(services, "referral")
        return total(samples, "backbone_processing_seconds_count", topic=INTAKE_EVENTS.name) > applied_before

    async def notify_delivered_it() -> bool:
        samples = await scrape(services, "notify")
        return total(samples, "backbone_notification_delivery_seconds_count") > delivered_before

    await eventually(referral_applied_it, within=30)
    await eventually(notify_delivered_it, within=30)

    # Lag is read every few seconds, per partition the one referral instance holds: all of its topics'.
    referral_topics = set(services.runtime("referral").consumed)

    async def lag_is_shown() -> bool:
        samples = await scrape(services, "referral")
        shown = {dict(labels)["topic"] for name, labels in samples if name == "backbone_consumer_lag"}
        return shown == referral_topics

    await eventually(lag_is_shown, within=30)

    scraped: tuple[ServiceName, ...] = ("intake", "referral", "notify")
    for service in scraped:
        # The refresh's queries run as they are against the service's real tables (a gauge never set would
        # still render as 0, so presence alone would not show that the SQL works).
        runtime = services.runtime(service)
        await runtime.metrics.refresh_from_database(runtime.pool)
        samples = await scrape(services, service)
        assert ("backbone_outbox_backlog", frozenset()) in samples
        assert samples["backbone_outbox_oldest_unsent_seconds", frozenset()] >= 0
    assert ("backbone_referrals_overdue", frozenset()) in await scrape(services, "referral")
