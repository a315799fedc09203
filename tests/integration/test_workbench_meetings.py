"""The meetings pages in a real browser, signed in through the real identity provider.

A coordinator of バックアップふじさわ finds a meeting of a case among their agency's meetings, downloads its
invitation (iCalendar), fixes its time, records it as held (at short notice) and confirms its support plan; the
meetings API then shows the plan, and every event names the coordinator by subject id. A centre's staff member
without the coordinator role sees the meeting but no forms, and the meetings service refuses their action even
on a meeting their own agency organises (while the agency's system may still act). A member of an agency that
takes no part gets nothing: no row, no page, no invitation.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from icalendar import Calendar
from playwright.async_api import async_playwright

from backbone import directory
from backbone.calendar import TOKYO
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.workbench_browser import (
    CENTRE_STAFF,
    CHROMIUM,
    COUNTER,
    FLAGS,
    running_workbench,
    sign_in,
    subject_of,
)

COORDINATOR_STAFF = "backup-coordinator"  # a coordinator (調整役) of バックアップふじさわ
UNINVOLVED_STAFF = "sogo-supervisor"  # 福祉総合相談支援センター: takes no part in a Katase case's meetings
EVERYONE_FOR_MEETINGS = {
    "scope": {"all_programme_agencies": True},
    "purposes": ["support", "referral", "case-meeting"],
    "method": "written",
}


@pytest.fixture
async def workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    async with running_workbench(services, stack) as url:
        yield url


async def a_katase_case_with_consent_for_meetings(services: RunningServices) -> str:
    async with await services.as_agency(*COUNTER) as intake:
        submitted = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": COUNTER[0],
                "staff_id": "katase-012",
                "channel": "counter",
                "district": "katase",
                "domains": ["elderly"],
                "personal": {"person": {"family_name": f"片瀬{uuid.uuid4().hex[:5]}", "birth_date": "1940-03-03"}},
                "consent": EVERYONE_FOR_MEETINGS,
            },
        )
    assert submitted.status_code == 201, submitted.text
    return str(submitted.json()["case_id"])


async def requested_meeting(services: RunningServices, case_id: str, organizer: str, participants: list[str]) -> str:
    """A 重層的支援会議 the organizer's system asks for, once meetings knows the case, its consent and who is in it."""
    entry = directory.load().agencies[organizer]
    meeting_id = ""

    async def asked() -> bool:
        nonlocal meeting_id
        async with await services.as_agency(entry.id, entry.type, "meetings") as meetings:
            answer = await meetings.post(
                "/v1/meetings", json={"case_id": case_id, "kind": "consent-based", "participants": participants}
            )
        meeting_id = str(answer.json()["meeting_id"]) if answer.status_code == 201 else ""
        return bool(meeting_id)

    await eventually(asked, within=30)
    return meeting_id


async def a_meeting_of_backup_fujisawa(services: RunningServices) -> tuple[str, str]:
    """A Katase case and a meeting on it that バックアップふじさわ organises, with the Katase centre taking part."""
    case_id = await a_katase_case_with_consent_for_meetings(services)
    return case_id, await requested_meeting(services, case_id, "backup-fujisawa", ["backup-fujisawa", CENTRE_STAFF])


async def meeting_as(services: RunningServices, agency_id: str, meeting_id: str) -> dict[str, Any]:
    entry = directory.load().agencies[agency_id]
    async with await services.as_agency(entry.id, entry.type, "meetings") as meetings:
        answer = await meetings.get(f"/v1/meetings/{meeting_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_a_coordinator_schedules_holds_and_confirms_a_plan_and_others_get_no_more_than_their_share(
    services: RunningServices, stack: LocalStack, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    passwords = secrets.demo_staff_passwords
    case_id, meeting_id = await a_meeting_of_backup_fujisawa(services)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        coordinator = await sign_in(browser, workbench, COORDINATOR_STAFF, passwords[COORDINATOR_STAFF])

        # The agency's meetings: this one, with its kind, state and organiser in words, and a link to its case.
        await coordinator.goto(f"{workbench}/meetings")
        row = coordinator.locator(f'tr[data-meeting="{meeting_id}"]')
        shown = await row.text_content() or ""
        assert "重層的支援会議" in shown and "日程調整中" in shown and "バックアップふじさわ" in shown
        assert await row.locator(f'a[href="/cases/{case_id}"]').count() == 1

        # The invitation, downloaded as a file: iCalendar, the meeting's own UID, nothing changed by reading it.
        await row.locator(f'a[href="/meetings/{meeting_id}"]').click()
        await coordinator.wait_for_url(f"{workbench}/meetings/{meeting_id}")
        async with coordinator.expect_download() as download_info:
            await coordinator.click("#invitation")
        download = await download_info.value
        assert download.suggested_filename == f"meeting-{meeting_id}.ics"
        ics = await coordinator.request.get(f"{workbench}/meetings/{meeting_id}/invitation.ics")
        assert ics.headers["content-type"].startswith("text/calendar")
        assert ics.headers["content-disposition"].startswith("attachment")
        body = await ics.text()
        assert body.startswith("BEGIN:VCALENDAR") and body.rstrip().endswith("END:VCALENDAR")
        (event,) = Calendar.from_ical(body).walk("VEVENT")
        assert meeting_id in str(event["UID"])
        assert (await meeting_as(services, "backup-fujisawa", meeting_id))["state"] == "requested"

        # A time that ends before it starts is refused beside the field, in Japanese; nothing is sent.
        await coordinator.fill("#ends", "08:00")
        await coordinator.fill("#starts", "09:00")
        await coordinator.click("#schedule")
        await coordinator.wait_for_selector("#ends-problem")
        assert "開始時刻より後" in (await coordinator.text_content("#ends-problem") or "")
        assert await coordinator.get_attribute("#ends", "aria-invalid") == "true"

        # Fix the proposed time as it is (the prefilled form), then record it held at short notice an hour ago.
        await coordinator.goto(f"{workbench}/meetings/{meeting_id}")
        await coordinator.click("#schedule")
        await coordinator.wait_for_selector("p.done")
        assert await coordinator.get_attribute("#state", "data-state") == "scheduled"
        an_hour_ago = (datetime.now(UTC) - timedelta(hours=1)).astimezone(TOKYO)
        await coordinator.fill("#held_date", an_hour_ago.strftime("%Y-%m-%d"))
        await coordinator.fill("#held_time", an_hour_ago.strftime("%H:%M"))
        await coordinator.click("#held")
        await coordinator.wait_for_selector("p.done")
        assert await coordinator.get_attribute("#state", "data-state") == "held"

        # The plan: goals, the centre's role, the review date offered.
        await coordinator.fill("#goals", "外出の機会を週1回つくる\n見守りの体制をつくる")
        await coordinator.select_option(f"#role-{CENTRE_STAFF}", "lead")
        await coordinator.select_option(f"#domain-{CENTRE_STAFF}", "elderly")
        await coordinator.click("#confirm-plan")
        await coordinator.wait_for_selector("p.done")
        assert "外出の機会を週1回つくる" in (await coordinator.text_content("#plan") or "")

        # The centre's staff member takes part: sees the meeting and its plan, but no coordinator's form.
        centre = await sign_in(browser, workbench, CENTRE_STAFF, passwords[CENTRE_STAFF])
        await centre.goto(f"{workbench}/meetings")
        assert await centre.locator(f'tr[data-meeting="{meeting_id}"]').count() == 1
        await centre.goto(f"{workbench}/meetings/{meeting_id}")
        assert await centre.locator("#plan").count() == 1 and await centre.locator("form.card").count() == 0

        # On a meeting the centre's own agency organises, its staff member (no coordinator role) is refused by
        # meetings itself, even posting the form by hand; the centre's system may still fix the time.
        own = await requested_meeting(services, case_id, CENTRE_STAFF, [CENTRE_STAFF, "backup-fujisawa"])
        csrf = await centre.get_attribute("input[name=csrf]", "value")
        times = {"date": "2030-01-07", "starts": "10:00", "ends": "11:00"}
        refused = await centre.request.post(f"{workbench}/meetings/{own}/schedule", form={"csrf": csrf or "", **times})
        assert refused.status == 403 and "調整役" in await refused.text()
        assert (await meeting_as(services, CENTRE_STAFF, own))["state"] == "requested"
        centre_type = directory.load().agencies[CENTRE_STAFF].type
        async with await services.as_agency(CENTRE_STAFF, centre_type, "meetings") as by_system:
            assert (await by_system.post(f"/v1/meetings/{own}/schedule", json={})).status_code == 200

        # A member of an agency with no part: no row, and the page and the invitation as for no meeting at all.
        outsider = await sign_in(browser, workbench, UNINVOLVED_STAFF, passwords[UNINVOLVED_STAFF])
        await outsider.goto(f"{workbench}/meetings")
        assert meeting_id not in await outsider.content()
        nothing = await outsider.goto(f"{workbench}/meetings/{uuid.uuid4()}")
        assert nothing is not None and nothing.status == 404
        said_for_nothing = await outsider.text_content("main p.error")
        page = await outsider.goto(f"{workbench}/meetings/{meeting_id}")
        assert page is not None and page.status == 404
        assert await outsider.text_content("main p.error") == said_for_nothing
        assert "外出" not in await outsider.content()
        invitation = await outsider.request.get(f"{workbench}/meetings/{meeting_id}/invitation.ics")
        assert invitation.status == 404 and "VCALENDAR" not in await invitation.text()
        outsider_csrf = await outsider.get_attribute("input[name=csrf]", "value")
        posted = await outsider.request.post(
            f"{workbench}/meetings/{meeting_id}/held", form={"csrf": outsider_csrf or ""}
        )
        assert posted.status == 404
        await browser.close()

    # What meetings holds now, and who it says did it: the coordinator, by subject id, on every step.
    held = await meeting_as(services, "backup-fujisawa", meeting_id)
    assert held["state"] == "held" and held["plan"]["goals"] == ["外出の機会を週1回つくる", "見守りの体制をつくる"]
    assert held["plan"]["roles"] == [{"agency": CENTRE_STAFF, "responsibility": "lead", "domain": "elderly"}]
    rows = await services.runtime("meetings").pool.fetch(
        "SELECT headers->>'ce_type' AS type, payload FROM outbox WHERE record_key = $1 ORDER BY seq", case_id
    )
    steps = {
        row["type"].rsplit(".", 2)[-2]: json.loads(row["payload"])
        for row in rows
        if json.loads(row["payload"]).get("meeting_id") == meeting_id
    }
    assert {"scheduled", "held", "confirmed"} <= steps.keys(), steps.keys()
    subject = await subject_of(stack.keycloak, secrets, COORDINATOR_STAFF)
    assert [steps[step]["by_staff"] for step in ("scheduled", "held", "confirmed")] == [subject] * 3
    assert steps["requested"].get("by_staff") is None  # asked for by the agency's system
