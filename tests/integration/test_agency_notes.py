"""An agency's own words stay in the service it wrote them to. A decline note, a cancellation note and a
meeting's notes are kept there and shown to the agencies that may read the referral or the meeting; only
the reason codes travel, so the words appear in no record on any topic and nowhere in the audit ledger.
Over Kafka an agency sends codes alone: a record with a note is refused, and the refusal repeats nothing."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from backbone.calendar import fiscal_year
from schemas.events import (
    REFERRAL_ACTION_TYPE,
    MeetingCancelled,
    NotificationDelivered,
    ReferralActionRejected,
    ReferralCancelled,
    ReferralDeclined,
)
from schemas.topics import ALL_TOPICS, MEETINGS_EVENTS, NOTIFY_EVENTS, REFERRAL_EVENTS, REFERRAL_RESPONSES
from schemas.vocabulary import AgencyType
from tests.integration.ingress import ce_id, signed_action
from tests.integration.kafka_tools import Record, end_offsets, eventually, produce, read_from
from tests.integration.services import RunningServices
from tests.integration.test_meetings import coordinator, multi_agency_case, proposed_meeting
from tests.integration.test_referral_loop import AGENCY_TYPES, COUNTER, consult, open_referral

MEMBERS = ["backup-fujisawa-shakyo", "csw-kugenuma"]  # both 支援会議 members


def typed(records: list[Record], model: Any) -> list[Any]:
    return [
        model.model_validate_json(r.value) for r in records if dict(r.headers).get("ce_type") == model.TYPE.encode()
    ]


async def decline_then_cancel(services: RunningServices, notes: dict[str, str]) -> tuple[str, dict[str, Any]]:
    """The first agency declines with a note; the counter that referred the case cancels the next proposal
    with one. Returns the case and the referral that was cancelled."""
    case_id = (await consult(services, ["elderly"]))["case_id"]
    first = await open_referral(services, case_id)
    async with await services.as_agency(
        first["to_agency"], AGENCY_TYPES[first["to_agency"]], service="referral"
    ) as referred:
        declined = await referred.post(
            f"/v1/referrals/{first['referral_id']}/decline", json={"reason": "no-capacity", "note": notes["decline"]}
        )
        assert declined.status_code == 200, declined.text
        assert declined.json()["decline_note"] == notes["decline"]
        # The declining agency still reads the case's referrals (a referral was addressed to it), with its note.
        mine = (await referred.get("/v1/referrals", params={"case_id": case_id})).json()
    assert {r["referral_id"]: r["decline_note"] for r in mine}[first["referral_id"]] == notes["decline"]
    second = await open_referral(services, case_id)
    async with await services.as_agency(*COUNTER, service="referral") as counter:
        without_a_code = await counter.post(f"/v1/referrals/{second['referral_id']}/cancel", json={"note": "x"})
        assert without_a_code.status_code == 422  # a cancellation needs its reason code
        cancelled = await counter.post(
            f"/v1/referrals/{second['referral_id']}/cancel",
            json={"reason": "person-declined", "note": notes["cancel"]},
        )
        assert cancelled.status_code == 200, cancelled.text
        seen = {r["referral_id"]: r for r in (await counter.get("/v1/referrals", params={"case_id": case_id})).json()}
    assert seen[first["referral_id"]]["decline_reason"] == "no-capacity"
    assert seen[first["referral_id"]]["decline_note"] == notes["decline"]
    assert seen[second["referral_id"]]["state"] == "cancelled"
    assert (seen[second["referral_id"]]["cancel_reason"], seen[second["referral_id"]]["cancel_note"]) == (
        "person-declined",
        notes["cancel"],
    )
    return case_id, second


async def ask_then_call_off(services: RunningServices, notes: dict[str, str]) -> tuple[str, str]:
    """A coordinator asks for a 支援会議 with a note, then calls it off with one. Returns case and meeting."""
    case = await multi_agency_case(services, consent=None)
    await proposed_meeting(services, case["case_id"])  # the backbone's own proposal, made first
    async with await coordinator(services) as meetings:
        asked = await meetings.post(
            "/v1/meetings",
            json={
                "case_id": case["case_id"],
                "kind": "confidential",
                "participants": MEMBERS,
                "reason": "asked",
                "note": notes["request"],
            },
        )
        assert asked.status_code == 201, asked.text
        meeting_id = asked.json()["meeting_id"]
        no_code = await meetings.post(f"/v1/meetings/{meeting_id}/cancel", json={"reason": "気が変わった"})
        assert no_code.status_code == 422  # words are not a reason code
        off = await meetings.post(
            f"/v1/meetings/{meeting_id}/cancel", json={"reason": "no-longer-needed", "note": notes["meeting-cancel"]}
        )
        assert off.status_code == 200, off.text
    async with await services.as_agency("csw-kugenuma", AgencyType.DISTRICT_CSW, service="meetings") as participant:
        shown = (await participant.get(f"/v1/meetings/{meeting_id}")).json()
    assert shown["state"] == "cancelled"
    assert (shown["reason"], shown["request_note"]) == ("asked", notes["request"])
    assert (shown["cancel_reason"], shown["cancel_note"]) == ("no-longer-needed", notes["meeting-cancel"])
    return case["case_id"], meeting_id


async def test_notes_stay_with_the_service_and_only_reason_codes_travel(
    services: RunningServices, bootstrap: str, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    tag = uuid.uuid4().hex[:8]
    notes = {
        "decline": f"辞退メモ{tag}: 藤沢花子さんは来月から",
        "cancel": f"取消メモ{tag}: 本人が電話で断った",
        "request": f"会議メモ{tag}: 長男の同席を調整",
        "meeting-cancel": f"中止メモ{tag}: 家族会議で解決",
    }
    over_kafka = f"Kafkaメモ{tag}"  # written on the ingress topic by the agency itself: it must go no further
    since = {spec.name: await end_offsets(bootstrap, spec.name) for spec in ALL_TOPICS}
    audit = services.runtime("audit").pool
    ledger_before = await audit.fetchval("SELECT coalesce(max(seq), 0) FROM ledger")
    auditor = await services.as_agency(f"kansa-{tag[:6]}", AgencyType.AUDITOR, service="audit")
    cancelled_before = await cancellations_this_year(auditor)

    case_id, cancelled = await decline_then_cancel(services, notes)
    meeting_case, meeting_id = await ask_then_call_off(services, notes)

    # Over Kafka: a decline with a note is refused as a whole (nothing is applied), with what to do instead.
    waiting = await open_referral(services, (await consult(services, ["elderly"]))["case_id"])
    token = await services.token(waiting["to_agency"], AGENCY_TYPES[waiting["to_agency"]])
    with_words = signed_action(
        token, {"referral_id": waiting["referral_id"], "action": "decline", "reason": "other", "note": over_kafka}
    )
    await produce(bootstrap, REFERRAL_RESPONSES.name, [with_words])

    def refused(records: list[Record]) -> list[ReferralActionRejected]:
        return [e for e in typed(records, ReferralActionRejected) if e.action_id == ce_id(with_words)]

    (rejection,) = refused(await read_from(bootstrap, REFERRAL_EVENTS.name, since[REFERRAL_EVENTS.name], until=refused))
    assert [r.field for r in rejection.reasons] == ["body.note"] and "HTTP" in rejection.reasons[0].message

    # The events went out with their codes, notify told the meeting's participants, and audit recorded it all.
    def cancelled_with_code(records: list[Record]) -> bool:
        return any(e.referral_id == uuid.UUID(cancelled["referral_id"]) for e in typed(records, ReferralCancelled))

    referral_records = await read_from(
        bootstrap, REFERRAL_EVENTS.name, since[REFERRAL_EVENTS.name], until=cancelled_with_code
    )
    assert [e.reason for e in typed(referral_records, ReferralCancelled) if str(e.case_id) == case_id] == [
        "person-declined"
    ]
    assert [e.reason for e in typed(referral_records, ReferralDeclined) if str(e.case_id) == case_id] == ["no-capacity"]
    meeting_records = await read_from(
        bootstrap,
        MEETINGS_EVENTS.name,
        since[MEETINGS_EVENTS.name],
        until=lambda got: any(str(e.meeting_id) == meeting_id for e in typed(got, MeetingCancelled)),
    )
    (called_off,) = [e for e in typed(meeting_records, MeetingCancelled) if str(e.meeting_id) == meeting_id]
    assert called_off.reason == "no-longer-needed"

    def participants_told(records: list[Record]) -> bool:
        told = typed(records, NotificationDelivered)
        return any(e.category == "meeting-cancelled" and str(e.case_id) == meeting_case for e in told)

    notices = await read_from(bootstrap, NOTIFY_EVENTS.name, since[NOTIFY_EVENTS.name], until=participants_told)
    assert participants_told(notices)

    async def audit_recorded_it_all() -> bool:
        rows = await audit.fetch(
            "SELECT event_type FROM ledger WHERE seq > $1 AND (case_id = ANY($2::text[]) OR event_id = $3)",
            ledger_before,
            [case_id, meeting_case],
            ce_id(with_words),
        )
        recorded = {r["event_type"] for r in rows}
        return recorded >= {ReferralCancelled.TYPE, MeetingCancelled.TYPE, REFERRAL_ACTION_TYPE}

    await eventually(audit_recorded_it_all, within=30)

    written: list[Record] = []
    for spec in ALL_TOPICS:  # every record appended since the start, up to each topic's end now
        ends = await end_offsets(bootstrap, spec.name)
        count = sum(end - since[spec.name].get(partition, 0) for partition, end in ends.items())
        if count == 0:
            continue
        records = await read_from(bootstrap, spec.name, since[spec.name], until=lambda got, n=count: len(got) >= n)
        assert len(records) >= count, f"{spec.name}: read {len(records)} of {count} records"
        written += records
    assert any(r.topic == REFERRAL_RESPONSES.name for r in written)  # the reading reaches the ingress topic too
    out, err = capfd.readouterr()
    logs = caplog.text + out + err
    for name, note in {**notes, "over Kafka": over_kafka}.items():
        words = note.split(":")[0]
        needles = [words.encode(), json.dumps(words).strip('"').encode()]  # as UTF-8, and as JSON may escape it
        where = [r for r in written if r.topic != REFERRAL_RESPONSES.name or name != "over Kafka"]
        blobs = [b for r in where for b in (r.value or b"", r.key or b"", *(v for _, v in r.headers))]
        assert not any(needle in blob for needle in needles for blob in blobs), f"the {name} note is on the bus"
        in_ledger = await audit.fetchval(  # in what audit keeps of each record, and in the value it parsed
            "SELECT count(*) FROM ledger WHERE seq > $1 AND NOT (topic = $3 AND $4)"
            " AND (position($2::bytea in canonical) > 0 OR strpos(data::text, $5) > 0)",
            ledger_before,
            needles[0],
            REFERRAL_RESPONSES.name,
            name == "over Kafka",
            words,
        )
        assert in_ledger == 0, f"the {name} note is in the audit ledger"
        assert words not in logs, f"the {name} note is in the logs"

    # Auditors see why, as the code in words, and the year's figures count the codes.
    try:
        timeline = (await auditor.get("/v1/timeline", params={"case_id": case_id, "language": "en"})).json()
        assert await cancellations_this_year(auditor) == cancelled_before + 1
    finally:
        await auditor.aclose()
    whys = {row["what"]: row["why"] for row in timeline if row["why"]}
    assert whys == {
        "referral declined": "no capacity",
        "referral declined (v2)": "no capacity",  # the same decline, in both versions during v1's deprecation window
        "referral cancelled": "person declined",
    }


async def cancellations_this_year(auditor: httpx.AsyncClient) -> int:
    """Referrals cancelled because the person declined, this fiscal year, as the auditors' figures count them."""
    figures = (await auditor.get("/v1/yearly", params={"fiscal_year": fiscal_year(datetime.now(UTC))})).json()
    count: int = figures["reasons"].get(ReferralCancelled.TYPE, {}).get("person-declined", 0)
    return count
