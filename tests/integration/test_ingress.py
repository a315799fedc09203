"""The ingress topic: the same rules as over HTTP, rejections addressed to the agency, retries idempotent."""

from __future__ import annotations

import base64
import json
from typing import Any

from nacl.public import PrivateKey

from schemas.events import ConsultationReceived, SubmissionRejected
from schemas.topics import INTAKE_EVENTS, INTAKE_SUBMISSIONS, dead_letter_topic
from schemas.vocabulary import AgencyType
from services.intake.ingress import ingress_idempotency_key
from tests.integration.ingress import ce_id, sealed_submission
from tests.integration.kafka_tools import end_offsets, produce, read_from
from tests.integration.services import RunningServices

AGENCY = ("shogai-kikan", AgencyType.DISABILITY_CORE)
FACTS = {
    "receiving_agency": AGENCY[0],
    "staff_id": "s-3",
    "channel": "home-visit",
    "district": "goshomi",
    "domains": ["disability"],
    "urgency": "urgent",
}
PERSONAL = {"summary": "通所先を探している。", "person": {"family_name": "御所見", "birth_date": "1990-09-09"}}


def of_type(records: list[Any], model: type[Any], agency: str) -> list[Any]:
    events = []
    for record in records:
        if dict(record.headers).get("ce_type") == model.TYPE.encode():
            event = model.model_validate_json(record.value)
            if getattr(event, "receiving_agency", getattr(event, "agency", None)) == agency:
                events.append(event)
    return events


async def test_submissions_over_kafka_are_applied_refused_or_dead_lettered_once_each(
    services: RunningServices, bootstrap: str
) -> None:
    token = await services.token(*AGENCY)
    async with services.client("intake") as intake:
        public_key = (await intake.get("/v1/keys/submission")).json()["public_key"]
    since = await end_offsets(bootstrap, INTAKE_EVENTS.name)
    letters_since = await end_offsets(bootstrap, dead_letter_topic("intake").name)

    good = sealed_submission(token, FACTS, PERSONAL, public_key)
    unknown_district = sealed_submission(token, {**FACTS, "district": "hakone"}, PERSONAL, public_key)
    other_agency = sealed_submission(token, {**FACTS, "receiving_agency": "csw-goshomi"}, None, public_key)
    someone_elses_key = base64.b64encode(bytes(PrivateKey.generate().public_key)).decode()
    wrong_seal = sealed_submission(token, FACTS, PERSONAL, someone_elses_key)
    forged = sealed_submission(f"{AGENCY[0]}.not-our-secret", FACTS, None, public_key)
    marker = sealed_submission(token, {**FACTS, "staff_id": "marker"}, None, public_key)
    sent = [good, unknown_district, other_agency, wrong_seal, forged]
    # Every record again (an agency retrying after a timeout), then a marker that ends the sequence.
    await produce(bootstrap, INTAKE_SUBMISSIONS.name, sent * 2 + [marker])

    def done(records: list[Any]) -> bool:  # the marker came through, so everything before it did
        return len(of_type(records, ConsultationReceived, AGENCY[0])) >= 2

    events = await read_from(bootstrap, INTAKE_EVENTS.name, since, until=done, within=30)
    received = of_type(events, ConsultationReceived, AGENCY[0])
    rejected = of_type(events, SubmissionRejected, AGENCY[0])
    assert len(received) == 2  # the good one once, and the marker
    assert received[0].urgency == "urgent" and received[0].subject_ref is not None
    assert [sorted(r.field for r in event.reasons) for event in rejected] == [
        ["body.district"],
        ["body.receiving_agency"],
        ["body.sealed_personal"],
    ]
    letters = await read_from(
        bootstrap, dead_letter_topic("intake").name, letters_since, until=lambda got: len(got) >= 2
    )
    assert [dict(letter.headers)["dlq.reason"] for letter in letters] == [b"unauthenticated"] * 2
    # What intake holds in the end: the good one once, its sealed part opened and stored encrypted; each
    # refused one once, with its reasons; nothing at all from the forged one.
    pool = services.runtime("intake").pool
    stored = await pool.fetch(
        "SELECT c.idempotency_key, c.summary_ct IS NOT NULL AS summary, p.identity_ct IS NOT NULL AS identity"
        " FROM consultations c JOIN persons p USING (person_id) WHERE c.receiving_agency = $1"
        " AND c.idempotency_key = ANY($2::text[])",
        AGENCY[0],
        [ingress_idempotency_key(ce_id(record)) for record in sent],
    )
    assert [tuple(row) for row in stored] == [(ingress_idempotency_key(ce_id(good)), True, True)]
    refused = await pool.fetch(
        "SELECT submission_id, reasons FROM rejected_submissions"
        " WHERE agency_id = $1 AND submission_id = ANY($2::text[])",
        AGENCY[0],
        [ce_id(record) for record in sent],
    )
    assert {row["submission_id"]: [r["field"] for r in json.loads(row["reasons"])] for row in refused} == {
        ce_id(unknown_district): ["body.district"],
        ce_id(other_agency): ["body.receiving_agency"],
        ce_id(wrong_seal): ["body.sealed_personal"],
    }
