"""The outreach pages in a real browser, signed in through the real identity provider.

社協 opens an outreach engagement on a Katase case from its system; a coordinator of バックアップふじさわ finds it on
the case's page and records, in the browser, an attempt (a form without a method is refused beside the field),
the contact, the consent and the handover to a plan, each step in the engagement's order (a consent before
the contact is refused by referral and said so in words). referral keeps the attempt's note and names the
staff member on every step. The Katase centre, involved in the case but not a worker, sees the engagement and
no form; an agency with no part in the case gets nothing.
"""

from __future__ import annotations

import uuid
from typing import Any

from playwright.async_api import async_playwright

from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from schemas.vocabulary import AgencyType
from tests.integration import test_workbench
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.test_workbench_meetings import COORDINATOR_STAFF, UNINVOLVED_STAFF
from tests.integration.workbench_browser import (
    CENTRE_STAFF,
    CHROMIUM,
    FLAGS,
    refer_an_elderly_person_of_katase,
    sign_in,
    subject_of,
)

SHAKYO = ("backup-fujisawa-shakyo", AgencyType.SELF_RELIANCE_COUNCIL)
workbench = test_workbench.workbench  # the workbench serving on its port, calling the in-process services


async def an_engagement_of_shakyo(services: RunningServices, case_id: str) -> str:
    """社協's system opens outreach on the case, once referral knows the case (with the Katase CSW as partner)."""
    opened: dict[str, Any] = {}

    async def open_it() -> bool:
        async with await services.as_agency(*SHAKYO, service="referral") as referral:
            answer = await referral.post("/v1/outreach", json={"case_id": case_id})
        opened.update(answer.json() if answer.status_code == 201 else {})
        return bool(opened)

    await eventually(open_it, within=30)
    assert (opened["holder"], opened["partner"]) == (SHAKYO[0], "csw-katase")
    return str(opened["outreach_id"])


async def engagement(services: RunningServices, outreach_id: str) -> dict[str, Any]:
    async with await services.as_agency(*SHAKYO, service="referral") as referral:
        answer = await referral.get(f"/v1/outreach/{outreach_id}")
    assert answer.status_code == 200, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def test_a_coordinator_records_outreach_in_the_browser_step_by_step_and_others_get_their_share(
    services: RunningServices, stack: LocalStack, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    passwords = secrets.demo_staff_passwords
    case_id, _ = await refer_an_elderly_person_of_katase(services, f"次郎{uuid.uuid4().hex[:4]}")
    outreach_id = await an_engagement_of_shakyo(services, case_id)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        coordinator = await sign_in(browser, workbench, COORDINATOR_STAFF, passwords[COORDINATOR_STAFF])

        # The case's page lists the engagement, with its workers in words; it opens the engagement's page.
        await coordinator.goto(f"{workbench}/cases/{case_id}")
        row = coordinator.locator(f'tr[data-outreach="{outreach_id}"]')
        assert "接触を試みている" in (await row.text_content() or "")
        await row.locator(f'a[href="/outreach/{outreach_id}"]').click()
        await coordinator.wait_for_url(f"{workbench}/outreach/{outreach_id}")
        assert await coordinator.get_attribute("#state", "data-state") == "attempting"

        # An attempt without a method is refused beside the field; nothing is sent.
        await coordinator.select_option("#result", "no-answer")
        await coordinator.click("#record-attempt")
        await coordinator.wait_for_selector("#method-problem")
        assert await coordinator.get_attribute("#method", "aria-invalid") == "true"
        assert (await engagement(services, outreach_id))["attempts"] == 0

        # A visit nobody answered, with a note: recorded, and shown in the table in words.
        await coordinator.select_option("#method", "visit")
        await coordinator.select_option("#result", "no-answer")
        await coordinator.fill("#attempt-note", "不在。手紙をポストに入れた")
        await coordinator.click("#record-attempt")
        await coordinator.wait_for_selector("p.done")
        table = await coordinator.text_content("#attempts") or ""
        assert "訪問" in table and "応答なし" in table and "手紙をポストに入れた" in table

        # A consent before the contact: the form is not offered, and posted by hand referral refuses it in words.
        assert await coordinator.locator("#record-consent").count() == 0
        csrf = await coordinator.get_attribute("input[name=csrf]", "value")
        early = await coordinator.request.post(f"{workbench}/outreach/{outreach_id}/consent", form={"csrf": csrf or ""})
        assert early.status == 409 and "今の状態では" in await early.text()

        # Contact, consent, and the handover to a plan, in order.
        for step, state in (("contact", "in-contact"), ("consent", "consented")):
            await coordinator.goto(f"{workbench}/outreach/{outreach_id}")
            await coordinator.click(f"#record-{step}")
            await coordinator.wait_for_selector("p.done")
            assert await coordinator.get_attribute("#state", "data-state") == state
        await coordinator.select_option("#ending-field", "handed-over")
        await coordinator.click("#record-end")
        await coordinator.wait_for_selector("p.done")
        assert await coordinator.get_attribute("#state", "data-state") == "ended"
        assert await coordinator.locator("form.card").count() == 0
        recorded = await engagement(services, outreach_id)
        assert (recorded["state"], recorded["ending"], recorded["attempts"]) == ("ended", "handed-over", 1)
        assert recorded["history"][0]["note"] == "不在。手紙をポストに入れた"
        assert recorded["history"][0]["agency"] == "backup-fujisawa"

        # The step's author is the staff member, by opaque subject id, on the bus (audit's history of the case).
        subject = await subject_of(stack.keycloak, secrets, COORDINATOR_STAFF)
        async with await services.as_agency(*SHAKYO, service="audit") as audit:

            async def authored() -> bool:
                history = (await audit.get(f"/v1/cases/{case_id}/history")).json()
                return any(
                    e.get("event_type", "").endswith("outreach.ended.v1") and e.get("by_staff") == subject
                    for e in history
                )

            await eventually(authored, within=30)

        # The centre takes part in the case: it sees the engagement, but no form (it is not a worker).
        centre = await sign_in(browser, workbench, CENTRE_STAFF, passwords[CENTRE_STAFF])
        page = await centre.goto(f"{workbench}/outreach/{outreach_id}")
        assert page is not None and page.status == 200 and await centre.locator("form.card").count() == 0

        # An agency with no part in the case: the page as for no engagement at all, and its post refused alike.
        outsider = await sign_in(browser, workbench, UNINVOLVED_STAFF, passwords[UNINVOLVED_STAFF])
        nothing = await outsider.goto(f"{workbench}/outreach/{uuid.uuid4()}")
        assert nothing is not None and nothing.status == 404
        said_for_nothing = await outsider.text_content("main p.error")
        hidden = await outsider.goto(f"{workbench}/outreach/{outreach_id}")
        assert hidden is not None and hidden.status == 404
        assert await outsider.text_content("main p.error") == said_for_nothing
        assert "手紙をポストに入れた" not in await outsider.content()
        await browser.close()
