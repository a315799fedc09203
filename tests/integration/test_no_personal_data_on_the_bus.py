"""No personal data on the bus or in the logs: known persons pass through, and their details appear nowhere."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import pytest

from schemas.events import NotificationDelivered
from schemas.topics import ALL_TOPICS
from schemas.vocabulary import AgencyType
from tests.integration.ingress import sealed_submission
from tests.integration.kafka_tools import end_offsets, eventually, produce, read_from, read_to_end
from tests.integration.services import RunningServices

COUNTER = ("chiku-fukushi-tsujido", AgencyType.DISTRICT_WELFARE_COUNTER)


async def test_known_names_phones_and_addresses_appear_in_no_record_and_no_log_line(
    services: RunningServices, bootstrap: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    tag = uuid.uuid4().hex[:6]
    people = [
        {
            "family_name": f"漏洩{tag}",
            "given_name": "試験",
            "family_name_kana": "ロウエイ",
            "birth_date": "1955-05-05",
            "phone": "090-8765-4321",
            "address": f"藤沢市辻堂元町{tag}番地",
        },
        {
            "family_name": f"Leak{tag}",
            "given_name": "Probe",
            "birth_date": "1988-08-08",
            "phone": "0466-98-7654",
            "address": f"Tsujido-Motomachi {tag}",
        },
    ]
    summary = f"相談内容{tag}: 家賃を三か月滞納している"
    needles = [
        f"漏洩{tag}",
        f"Leak{tag}",
        "ロウエイ",
        "090-8765-4321",
        "0466-98-7654",
        f"辻堂元町{tag}",
        f"Tsujido-Motomachi {tag}",
        f"相談内容{tag}",
        "1955-05-05",
        "1988-08-08",
    ]
    since = {spec.name: await end_offsets(bootstrap, spec.name) for spec in ALL_TOPICS}

    facts = {
        "receiving_agency": COUNTER[0],
        "staff_id": "t-1",
        "channel": "counter",
        "district": "tsujido",
        "domains": ["poverty"],
        "consent": {"scope": {"agency_types": ["self-reliance"]}, "purposes": ["support"], "method": "written"},
    }
    token = await services.token(*COUNTER)
    async with services.client("intake") as intake:
        intake.headers["Authorization"] = f"Bearer {token}"
        answer = await intake.post(
            "/v1/consultations", json={**facts, "personal": {"summary": summary, "person": people[0]}}
        )
        assert answer.status_code == 201
        bad = await intake.post(
            "/v1/consultations",
            json={**facts, "district": "nowhere", "personal": {"summary": summary, "person": people[0]}},
        )
        assert bad.status_code == 422
        public_key = (await intake.get("/v1/keys/submission")).json()["public_key"]
    await produce(
        bootstrap,
        "intake.submissions.v1",
        [
            sealed_submission(token, facts, {"summary": summary, "person": people[1]}, public_key),
            sealed_submission(
                token, {**facts, "district": "nowhere"}, {"summary": summary, "person": people[1]}, public_key
            ),
        ],
    )

    async def both_notified() -> bool:
        records = await read_from(
            bootstrap, "notify.events.v1", since["notify.events.v1"], until=lambda _: False, within=0.5
        )
        delivered = [
            NotificationDelivered.model_validate_json(r.value)
            for r in records
            if dict(r.headers).get("ce_type") == NotificationDelivered.TYPE.encode()
        ]
        return sum(d.recipient_agency == "backup-fujisawa" for d in delivered) >= 2

    await eventually(both_notified, within=30)
    written: list[Any] = []
    for spec in ALL_TOPICS:
        written += await read_to_end(bootstrap, spec.name, since[spec.name])
    assert len(written) >= 8  # consultations, consents, rejection, referrals, notifications, ingress records

    everything = [record.value or b"" for record in written] + [record.key or b"" for record in written]
    everything += [value for record in written for _, value in record.headers]
    out, err = capfd.readouterr()
    logs = caplog.text + out + err
    for needle in needles:
        assert not any(needle.encode() in blob for blob in everything), f"{needle!r} is on the bus"
        assert needle not in logs, f"{needle!r} is in the logs"
