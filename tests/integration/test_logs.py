"""An operator goes from a line in any service's log to the trace and the ledger: each service writes one line per
event it published, with the event's id and the trace id, and the ledger's timeline of that trace holds the event.
FastStream's per-message lines are DEBUG, so a consultation makes a few INFO lines, not dozens."""

from __future__ import annotations

import json
import logging

import pytest

from backbone import logs
from schemas.events import ConsultationReceived, ReferralProposed
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices

COUNTER = ("chiku-fukushi-zengyo", AgencyType.DISTRICT_WELFARE_COUNTER)
RECEIVED = ConsultationReceived.TYPE
PROPOSED = ReferralProposed.TYPE


def published(caplog: pytest.LogCaptureFixture, case_id: str) -> dict[str, dict[str, object]]:
    """The outbox's lines about the case, as JSON lines, by event type."""
    formatter = logs.JsonLines("test")
    lines = [json.loads(formatter.format(r)) for r in caplog.records if r.name == "backbone.outbox"]
    return {str(line["event_type"]): line for line in lines if line.get("case_id") == case_id}


async def test_each_published_event_is_one_line_that_leads_to_its_trace_and_the_ledger(
    services: RunningServices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    caplog.handler.addFilter(logs.StampIds())  # as the service's own handler stamps each line when it is written
    async with await services.as_agency(*COUNTER, service="intake") as intake:
        answer = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": COUNTER[0],
                "staff_id": "t-logs",
                "channel": "counter",
                "district": "zengyo",
                "domains": ["poverty"],
            },
        )
    assert answer.status_code == 201, answer.text
    case_id = answer.json()["case_id"]

    await eventually(lambda: {RECEIVED, PROPOSED} <= set(published(caplog, case_id)), within=30)
    lines = published(caplog, case_id)
    received, proposed = lines[RECEIVED], lines[PROPOSED]
    assert received["message"] == f"published {RECEIVED}" and received["level"] == "INFO"
    assert len(str(received["trace_id"])) == 32 and received["event_id"] and received["topic"]
    # Referral's event was caused in the trace intake's began: one trace id leads through both services.
    assert proposed["trace_id"] == received["trace_id"]

    # FastStream's "Received"/"Processed" for every message stay below INFO.
    assert not [r for r in caplog.records if r.getMessage() in ("Received", "Processed") and r.levelno >= logging.INFO]

    async def in_the_ledger() -> bool:
        async with await services.as_auditor() as audit:
            timeline = (await audit.get("/v1/timeline", params={"trace_id": received["trace_id"]})).json()
        return {received["event_id"], proposed["event_id"]} <= {row["event_id"] for row in timeline}

    await eventually(in_the_ledger, within=60)
