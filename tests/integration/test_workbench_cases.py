"""The cases (ケース) in a real browser, signed in through the real identity provider: a centre's staff member
accepts a referral and finds the case among the agency's cases, with its referrals and its history from the
ledger (the acceptance marked as a staff member's); the referral's page shows its own part of that history.
A member of an agency with no part in the case finds it in no list, and its page answers as for no case.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Page, async_playwright

from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.test_workbench import UNINVOLVED_STAFF
from tests.integration.workbench_browser import (
    CENTRE_STAFF,
    CHROMIUM,
    FLAGS,
    refer_an_elderly_person_of_katase,
    running_workbench,
    sign_in,
)


@pytest.fixture
async def workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    async with running_workbench(services, stack) as url:
        yield url


async def history_shows(page: Page, address: str, event: str) -> bool:
    """Whether the page's history, loaded afresh, lists an event of this kind (audit records asynchronously)."""
    await page.goto(address)
    return await page.locator(f'#history li[data-event$="{event}"]').count() > 0


async def test_a_centre_finds_its_case_with_its_history_and_an_outsider_finds_nothing(
    services: RunningServices, stack: LocalStack, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    given_name = f"四郎{uuid.uuid4().hex[:4]}"
    case_id, referral_id = await refer_an_elderly_person_of_katase(services, given_name)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        centre = await sign_in(browser, workbench, CENTRE_STAFF, secrets.demo_staff_passwords[CENTRE_STAFF])
        await centre.goto(f"{workbench}/referrals/{referral_id}")
        await centre.click("#accept")
        await centre.wait_for_selector("p.done")

        # The case is among the agency's cases, as referred to it.
        await centre.goto(f"{workbench}/cases")
        row = centre.locator(f'#cases tr[data-case="{case_id}"]')
        assert await row.count() == 1
        assert "つなぎ先" in (await row.text_content() or "")

        # Its page: the referral, and the history from the ledger, the acceptance by a staff member.
        case_page = f"{workbench}/cases/{case_id}"
        await eventually(lambda: history_shows(centre, case_page, "referral.accepted.v1"), within=30)
        assert await centre.locator(f'#case-referrals tr[data-referral="{referral_id}"]').count() == 1
        accepted = centre.locator('#history li[data-event$="referral.accepted.v1"]')
        assert "職員が操作" in (await accepted.text_content() or "")
        assert await centre.locator('#history li[data-event$="consultation.received.v1"]').count() == 1
        assert given_name not in await centre.content()  # the case's pages carry no personal data

        # The referral's page shows the referral's part of the history (its proposal and acceptance).
        await centre.goto(f"{workbench}/referrals/{referral_id}")
        events = await centre.locator("#history li").evaluate_all("items => items.map(i => i.dataset.event)")
        assert any(e.endswith("referral.proposed.v1") for e in events)
        assert any(e.endswith("referral.accepted.v1") for e in events)
        assert not any(e.endswith("consultation.received.v1") for e in events)

        # An agency with no part in the case: not in its list, and the case's page is the page of no case.
        outsider = await sign_in(browser, workbench, UNINVOLVED_STAFF, secrets.demo_staff_passwords[UNINVOLVED_STAFF])
        await outsider.goto(f"{workbench}/cases")
        assert case_id not in await outsider.content()
        answer = await outsider.goto(case_page)
        assert answer is not None and answer.status == 404
        refused_page = await outsider.text_content("main")
        nothing = await outsider.goto(f"{workbench}/cases/{uuid.uuid4()}")
        assert nothing is not None and nothing.status == 404
        assert refused_page == await outsider.text_content("main")
        refused = await outsider.request.get(case_page)
        assert refused.status == 404 and referral_id not in await refused.text()
        await browser.close()
