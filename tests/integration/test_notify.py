"""Notify against real receivers: an SMTP server and a webhook receiver on loopback, the real broker and database."""

from __future__ import annotations

import json
import re
import uuid
from email.header import decode_header, make_header
from typing import Any
from urllib.parse import urljoin

from devtools.simulation.agencies import ACK_FORM
from schemas.vocabulary import AgencyType
from services.notify import channels
from tests.integration.kafka_tools import eventually
from tests.integration.receivers import SmtpCatcher, WebhookReceiver
from tests.integration.services import RunningServices

WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]
# A roster whose only person is a webhook nobody listens on.
UNREACHABLE = {
    "people": [{"id": "gone", "webhook": "http://127.0.0.1:9/nowhere"}],
    "shifts": [{"role": "primary", "days": WEEK, "start": "00:00", "end": "00:00", "person": "gone"}],
}


async def consult(services: RunningServices, district: str, domains: list[str], name: str) -> str:
    counter = (f"chiku-fukushi-{district}", AgencyType.DISTRICT_WELFARE_COUNTER)
    async with await services.as_agency(*counter) as intake:
        answer = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": counter[0],
                "staff_id": "n-1",
                "channel": "phone",
                "district": district,
                "domains": domains,
                "urgency": "urgent",
                "personal": {"summary": f"{name}さんの件", "person": {"family_name": name, "phone": "090-1111-2222"}},
            },
        )
    assert answer.status_code == 201, answer.text
    case_id: str = answer.json()["case_id"]
    return case_id


async def deliveries(services: RunningServices, case_id: str) -> list[dict[str, Any]]:
    async with await services.as_coordinator("notify") as notify:
        rows: list[dict[str, Any]] = (await notify.get("/v1/notifications", params={"case_id": case_id})).json()
    return rows


async def test_an_email_reaches_the_on_call_person_without_personal_data_and_is_acknowledged_from_its_links_page(
    services: RunningServices, smtp: SmtpCatcher
) -> None:
    name = f"通知{uuid.uuid4().hex[:5]}"
    case_id = await consult(services, "katase", ["elderly"], name)
    address = "oncall@ikiiki-katase.fujisawa-backbone.invalid"
    await eventually(lambda: any(case_id in m["X-Backbone-Case"] for m in smtp.to(address)), within=30)
    (mail,) = [m for m in smtp.to(address) if m["X-Backbone-Case"] == case_id]
    (row,) = await deliveries(services, case_id)
    assert mail["Message-ID"] == f"<{row['notification_id']}@fujisawa-backbone>"
    assert mail["X-Backbone-Category"] == "referral-proposed" and mail["X-Backbone-Urgency"] == "urgent"
    body = mail.get_payload(decode=True).decode()
    subject = str(make_header(decode_header(str(mail["Subject"]))))
    assert "つなぎ" in subject
    for secret in (name, "090-1111-2222", "さんの件"):
        assert secret not in body and secret not in subject  # ids, category, urgency and a link only
    link = re.search(r"http://\S+/v1/ack/\S+", body)
    assert link is not None
    async with services.client("notify") as notify:
        page = await notify.get(link.group(0).split("8104", 1)[1])  # shows what is acknowledged, changes nothing
        form = ACK_FORM.search(page.text)  # the button, as the simulated staff find it
        assert page.status_code == 200 and form is not None, page.text
        forged = await notify.post(f"/v1/ack/{row['notification_id']}", data={"token": "0" * 32})
        pressed = await notify.post(urljoin(str(page.url), form.group(1)), data={"token": form.group(2)})
        again = await notify.post(urljoin(str(page.url), form.group(1)), data={"token": form.group(2)})
    assert forged.status_code == 404 and pressed.status_code == again.status_code == 200
    (row,) = await deliveries(services, case_id)
    assert row["acknowledged_at"] is not None and row["state"] == "delivered"


async def test_a_signed_webhook_reaches_the_agency_and_a_signed_acknowledgement_is_accepted(
    services: RunningServices, webhooks: WebhookReceiver
) -> None:
    agency = ("ikiiki-tsujido", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    roster = {
        "people": [
            {"id": "desk", "webhook": webhooks.url("/tsujido"), "language": "en"},
            {"id": "chief", "email": "chief@ikiiki-tsujido.invalid"},
        ],
        "shifts": [
            {"role": "primary", "days": WEEK, "start": "00:00", "end": "00:00", "person": "desk"},
            {"role": "supervisor", "days": WEEK, "start": "00:00", "end": "00:00", "person": "chief"},
        ],
    }
    async with await services.as_agency(*agency, service="notify") as notify:
        gap = await notify.put("/v1/rosters/me", json={**roster, "shifts": roster["shifts"][1:]})
        registered = await notify.put("/v1/rosters/me", json=roster)
    assert gap.status_code == 422 and "no primary" in gap.text
    assert registered.status_code == 200
    secret = bytes.fromhex(registered.json()["webhook_secret"])
    webhooks.secrets["/tsujido"] = secret

    case_id = await consult(services, "tsujido", ["elderly"], "辻堂")
    await eventually(lambda: any(r["body"]["case_id"] == case_id for r in webhooks.received), within=30)
    (received,) = [r for r in webhooks.received if r["body"]["case_id"] == case_id]
    assert received["verified"] and received["tampered_fails"]
    assert received["body"]["subject"].startswith("[Referral]")  # the roster asked for English
    notification_id = received["delivery"]

    body = json.dumps({"notification_id": notification_id}).encode()
    async with services.client("notify") as notify:
        stale = await notify.post(
            f"/v1/notifications/{notification_id}/signed-acknowledgement",
            content=body,
            headers={"X-Backbone-Agency": agency[0], "X-Backbone-Signature": channels.sign(secret, body, timestamp=1)},
        )
        signed = await notify.post(
            f"/v1/notifications/{notification_id}/signed-acknowledgement",
            content=body,
            headers={"X-Backbone-Agency": agency[0], "X-Backbone-Signature": channels.sign(secret, body)},
        )
    assert stale.status_code == 401 and signed.status_code == 200
    async with await services.as_agency("ikiiki-kikan", AgencyType.CORE_COMMUNITY_SUPPORT_CENTRE, "notify") as other:
        assert (await other.post(f"/v1/notifications/{notification_id}/acknowledge")).status_code == 404


async def test_a_withdrawn_roster_gives_way_to_the_directory_default_and_mail_reaches_the_on_call_address(
    services: RunningServices, smtp: SmtpCatcher
) -> None:
    agency = ("ikiiki-shonan-oba", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    async with await services.as_agency(*agency, service="notify") as notify:
        assert (await notify.put("/v1/rosters/me", json=UNREACHABLE)).status_code == 200
        withdrawn = await notify.delete("/v1/rosters/me")
        again = await notify.delete("/v1/rosters/me")  # nothing left to withdraw: the same answer
        current = (await notify.get("/v1/rosters/me")).json()
    assert withdrawn.status_code == again.status_code == 200 and withdrawn.json() == again.json() == current
    address = "oncall@ikiiki-shonan-oba.fujisawa-backbone.invalid"
    assert current["people"][0]["email"] == address

    case_id = await consult(services, "shonan-oba", ["elderly"], "大庭")
    await eventually(lambda: any(m["X-Backbone-Case"] == case_id for m in smtp.to(address)), within=30)


async def test_a_refusing_server_is_retried_and_an_unanswered_notification_climbs_to_the_supervisor(
    services: RunningServices, smtp: SmtpCatcher
) -> None:
    smtp.refusing["oncall@ikiiki-meiji.fujisawa-backbone.invalid"] = 2
    case_id = await consult(services, "meiji", ["elderly"], "明治")

    async def delivered() -> bool:
        rows = await deliveries(services, case_id)
        return bool(rows) and rows[0]["state"] == "delivered"

    await eventually(delivered, within=30)
    (row,) = await deliveries(services, case_id)
    assert row["attempts"] == 3  # two refusals, then accepted

    # Time passes without an acknowledgement (the deadline moved into the past for this one notification).
    pool = services.runtime("notify").pool
    await pool.execute(
        "UPDATE deliveries SET escalate_at = now() - interval '1 second' WHERE notification_id = $1",
        uuid.UUID(row["notification_id"]),
    )

    async def climbed() -> bool:
        return any(
            r["recipient_role"] == "supervisor" and r["state"] == "delivered"
            for r in await deliveries(services, case_id)
        )

    await eventually(climbed, within=30)
    supervisor = "supervisor@ikiiki-meiji.fujisawa-backbone.invalid"
    assert any(
        m["X-Backbone-Case"] == case_id and m["X-Backbone-Category"] == "referral-escalated"
        for m in smtp.to(supervisor)
    )


async def test_a_dead_endpoint_ends_in_a_visible_failure_and_holds_up_nobody_else(
    services: RunningServices, webhooks: WebhookReceiver, smtp: SmtpCatcher
) -> None:
    dead = ("ikiiki-chogo", AgencyType.COMMUNITY_SUPPORT_CENTRE)
    # A URL of this run's own, so a breaker of its own: the services' databases outlive a run, and deliveries an
    # earlier run left pending to a dead URL would otherwise take turns with this one at that URL's probe.
    roster = {**UNREACHABLE, "people": [{"id": "gone", "webhook": f"http://127.0.0.1:9/nowhere/{uuid.uuid4().hex}"}]}
    async with await services.as_agency(*dead, service="notify") as notify:
        assert (await notify.put("/v1/rosters/me", json=roster)).status_code == 200
    failing = await consult(services, "chogo", ["elderly"], "長後")
    fine = await consult(services, "endo", ["elderly"], "遠藤")

    async def settled() -> bool:
        rows = await deliveries(services, failing)
        return bool(rows) and rows[0]["state"] == "failed"

    await eventually(settled, within=60)
    (row,) = await deliveries(services, failing)
    assert row["attempts"] == 6 and "webhook" in row["last_error"]
    assert any(m["X-Backbone-Case"] == fine for m in smtp.messages)  # delivered meanwhile
