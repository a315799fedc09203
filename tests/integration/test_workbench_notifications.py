"""The notifications page (通知) and My agency (自機関) in a real browser, signed in through the real identity
provider, against the real services.

A centre's staff member finds the notification of a new referral among their agency's and acknowledges it:
notify shows it acknowledged and the NotificationAcknowledged event names them. A member of an uninvolved
agency neither sees it nor can acknowledge it. A supervisor changes the agency's capacity and on-call roster
(a roster with a gap is refused with its problem beside the field, and nothing is stored); a plain staff
member sees no forms, and the services refuse them the change.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from playwright.async_api import async_playwright

from backbone import directory
from devtools.local.keycloak import LocalKeycloak
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.test_notify import deliveries
from tests.integration.test_staff_members import call
from tests.integration.test_staff_members import sign_in as staff_token
from tests.integration.test_workbench_a11y import check
from tests.integration.workbench_browser import (
    CENTRE_STAFF,
    CHROMIUM,
    FLAGS,
    refer_an_elderly_person_of_katase,
    running_workbench,
    sign_in,
    subject_of,
)

SUPERVISOR, SUPERVISED = "sogo-supervisor", "fukushi-sogo"  # 福祉総合相談支援センター: not involved in Katase's case
WEEK = ["mon", "tue", "wed", "thu", "fri", "sat", "sun", "holiday"]
PEOPLE = [{"id": "sogo-day", "email": "day@fukushi-sogo.fujisawa-backbone.invalid"}]


@pytest.fixture
async def workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    async with running_workbench(services, stack) as url:
        yield url


def roster(*shifts: tuple[str, str]) -> str:
    """A roster of one person on call as primary in the given (start, end) shifts every day."""
    return json.dumps(
        {
            "people": PEOPLE,
            "shifts": [
                {"role": "primary", "days": WEEK, "start": start, "end": end, "person": "sogo-day"}
                for start, end in shifts
            ],
        }
    )


async def acknowledgement_events(services: RunningServices, notification_id: str) -> list[dict[str, Any]]:
    rows = await services.runtime("notify").pool.fetch(
        "SELECT payload FROM outbox WHERE headers->>'ce_type' LIKE '%notification.acknowledged%'"
        " AND convert_from(payload, 'UTF8') LIKE $1",
        f"%{notification_id}%",
    )
    return [json.loads(row["payload"]) for row in rows]


async def test_a_centre_acknowledges_its_notification_in_the_browser_and_an_outsider_gets_nothing(
    services: RunningServices, stack: LocalStack, keycloak: LocalKeycloak, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    case_id, _ = await refer_an_elderly_person_of_katase(services, f"通知{uuid.uuid4().hex[:4]}")
    found: list[dict[str, Any]] = []

    async def notified() -> bool:
        found[:] = [d for d in await deliveries(services, case_id) if d["recipient_agency"] == CENTRE_STAFF]
        return bool(found)

    await eventually(notified, within=30)
    notification_id = str(found[0]["notification_id"])
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        # An agency with no part in the case: not listed, and its acknowledgement is refused as for no id at all.
        outsider = await sign_in(browser, workbench, SUPERVISOR, secrets.demo_staff_passwords[SUPERVISOR])
        for view in ("open", "acknowledged"):
            await outsider.goto(f"{workbench}/notifications?show={view}")
            assert notification_id not in await outsider.content() and case_id not in await outsider.content()
        csrf = await outsider.get_attribute("input[name=csrf]", "value") or ""
        theirs = await outsider.request.post(
            f"{workbench}/notifications/{notification_id}/acknowledge", form={"csrf": csrf}
        )
        none = await outsider.request.post(f"{workbench}/notifications/{uuid.uuid4()}/acknowledge", form={"csrf": csrf})
        assert theirs.status == none.status == 404
        assert await theirs.text() == await none.text()  # the same page as for a notification that does not exist
        assert "あなたの機関あての通知ではありません" in await theirs.text()
        (untouched,) = [d for d in await deliveries(services, case_id) if str(d["notification_id"]) == notification_id]
        assert untouched["acknowledged_at"] is None

        # The centre's staff member: the notification is listed, unacknowledged, with its button.
        centre = await sign_in(browser, workbench, CENTRE_STAFF, secrets.demo_staff_passwords[CENTRE_STAFF])
        await centre.goto(f"{workbench}/notifications")
        row = centre.locator(f'tr[data-notification="{notification_id}"]')
        assert await row.get_attribute("data-acknowledged") == "no"
        shown = await row.text_content() or ""
        assert "つなぎ（受入れ依頼）" in shown
        assert await row.locator(f'a[href="/cases/{case_id}"]').count() == 1
        await row.locator("button[type=submit]").click()
        await centre.wait_for_selector("p.done")
        assert "確認済みにしました" in (await centre.text_content("p.done") or "")
        assert await centre.locator(f'tr[data-notification="{notification_id}"]').count() == 0  # no longer open
        await centre.goto(f"{workbench}/notifications?show=acknowledged&lang=en")
        done = centre.locator(f'tr[data-notification="{notification_id}"]')
        assert await done.get_attribute("data-acknowledged") == "yes"
        assert "Acknowledged" in (await done.locator("td.state").text_content() or "")
        assert await done.locator("button").count() == 0
        await browser.close()

    (row,) = [d for d in await deliveries(services, case_id) if str(d["notification_id"]) == notification_id]
    assert row["acknowledged_at"] is not None and row["acknowledged_via"] == "api"
    (event,) = await acknowledgement_events(services, notification_id)
    assert event["by_staff"] == await subject_of(keycloak, secrets, CENTRE_STAFF)
    assert event["recipient_agency"] == CENTRE_STAFF
    # The listing as notify answers it: the agency's own, filtered by state, bounded.
    centre = await services.token(CENTRE_STAFF, directory.load().agencies[CENTRE_STAFF].type)
    listed = {
        state: [str(n["notification_id"]) for n in (await listing(services, centre, state=state)).json()]
        for state in ("open", "acknowledged")
    }
    assert notification_id in listed["acknowledged"] and notification_id not in listed["open"]
    assert (await listing(services, centre, limit="501")).status_code == 422
    assert len((await listing(services, centre, limit="1")).json()) == 1


async def listing(services: RunningServices, token: str, **params: str) -> Any:
    return await call(services, "notify", "GET", "/v1/notifications", token, params=params)


async def test_a_supervisor_changes_capacity_and_roster_and_plain_staff_are_refused(
    services: RunningServices,
    stack: LocalStack,
    workbench: str,
    discovery: dict[str, Any],
    passwords: dict[str, str],
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    supervised = directory.load().agencies[SUPERVISED]
    system = await services.token(SUPERVISED, supervised.type)  # the agency's own system, to check and to restore
    before = (await call(services, "notify", "GET", "/v1/rosters/me", system)).json()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            page = await sign_in(browser, workbench, SUPERVISOR, secrets.demo_staff_passwords[SUPERVISOR])
            await page.goto(f"{workbench}/agency")
            assert await page.locator("#read-only").count() == 0

            # Capacity: reported, seen by routing's directory, then withdrawn.
            await page.check("input[name=capacity][value=waitlist]")
            await page.click("#report-capacity")
            await page.wait_for_selector("p.done")
            assert await page.get_attribute("#capacity", "data-capacity") == "waitlist"
            assert await capacity_of(services, system) == "waitlist"

            # A roster with a gap: its problem beside the field, nothing stored.
            await page.fill("#roster", roster(("09:00", "18:00")))
            await page.click("#register-roster")
            problems = page.locator("#roster-problems")
            await problems.wait_for()
            assert "月曜に当番（主）のいない時間があります" in (await problems.text_content() or "")
            assert await page.get_attribute("#roster", "aria-invalid") == "true"
            assert "09:00" in await page.input_value("#roster")  # what was written is kept to correct
            assert (await call(services, "notify", "GET", "/v1/rosters/me", system)).json() == before
            assert not await check(page, "the roster form with its problems")

            # A roster without gaps: stored, and shown in the week's table.
            await page.fill("#roster", roster(("09:00", "18:00"), ("18:00", "09:00")))
            await page.click("#register-roster")
            await page.wait_for_selector("p.done")
            monday = await page.locator('#roster-week tr[data-day="mon"]').text_content() or ""
            assert "09:00–18:00" in monday and "18:00–翌09:00" in monday and "sogo-day" in monday
            stored = (await call(services, "notify", "GET", "/v1/rosters/me", system)).json()
            assert [p["id"] for p in stored["people"]] == ["sogo-day"]

            # Both withdrawn from the page: the directory's own apply again.
            await page.click("#withdraw-roster")
            await page.wait_for_selector("p.done")
            await page.click("#withdraw-capacity")
            await page.wait_for_selector("p.done")
            assert (await call(services, "notify", "GET", "/v1/rosters/me", system)).json() == before
            assert await capacity_of(services, system) == supervised.capacity

            # A plain staff member reads both but has no form; a post anyway is refused by the services.
            staff = await sign_in(browser, workbench, CENTRE_STAFF, secrets.demo_staff_passwords[CENTRE_STAFF])
            await staff.goto(f"{workbench}/agency")
            assert await staff.locator("#read-only").count() == 1
            assert await staff.locator("#capacity-form, #roster-form").count() == 0
            assert await staff.locator('#roster-week tr[data-day="holiday"]').count() == 1
            csrf = await staff.get_attribute("input[name=csrf]", "value") or ""
            refused = await staff.request.post(
                f"{workbench}/agency/capacity", form={"csrf": csrf, "capacity": "none", "action": "report"}
            )
            assert refused.status == 403 and "管理職または調整役の役割が必要です" in await refused.text()
            await browser.close()
    finally:
        await call(services, "notify", "DELETE", "/v1/rosters/me", system)
        await call(services, "referral", "DELETE", "/v1/agencies/me/capacity", system)

    # The services refuse a plain staff member's token whatever sends it, and let a supervisor's through.
    plain = staff_token(discovery, passwords, CENTRE_STAFF)
    for service, method, path, body in (
        ("referral", "PUT", "/v1/agencies/me/capacity", {"capacity": "none"}),
        ("referral", "DELETE", "/v1/agencies/me/capacity", None),
        ("notify", "PUT", "/v1/rosters/me", json.loads(roster(("00:00", "00:00")))),
        ("notify", "DELETE", "/v1/rosters/me", None),
    ):
        answer = await call(services, service, method, path, plain, json=body)
        assert answer.status_code == 403, (service, method, path, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert "supervisor or coordinator role" in answer.json()["detail"]
    assert (await call(services, "notify", "GET", "/v1/rosters/me", plain)).status_code == 200  # reading is allowed
    centre = directory.load().agencies[CENTRE_STAFF]
    assert await capacity_of(services, plain, CENTRE_STAFF) == centre.capacity  # nothing was changed
    supervisor = staff_token(discovery, passwords, SUPERVISOR)
    try:
        allowed = await call(
            services, "referral", "PUT", "/v1/agencies/me/capacity", supervisor, json={"capacity": "none"}
        )
        assert allowed.status_code == 200 and allowed.json()["agency"] == SUPERVISED
    finally:
        await call(services, "referral", "DELETE", "/v1/agencies/me/capacity", system)


async def capacity_of(services: RunningServices, token: str, agency: str = SUPERVISED) -> str:
    entries = (await call(services, "referral", "GET", "/v1/directory", token)).json()
    return str(next(entry["capacity"] for entry in entries if entry["id"] == agency))
