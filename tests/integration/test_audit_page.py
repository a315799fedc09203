"""The auditors' pages in a real headless browser (Debian's Chromium, driven by Playwright): an auditor signs
in to the workbench through the identity provider's login form, with the auditor role, and never handles a
token. The audit service's own front page sends auditors there."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import async_playwright

from backbone import directory
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.workbench_browser import CENTRE_STAFF, CHROMIUM, DESKTOP, FLAGS, running_workbench, sign_in

__all__ = ["CHROMIUM", "FLAGS"]  # imported from here by older browser tests


@pytest.fixture
async def workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    async with running_workbench(services, stack) as url:
        yield url


async def test_an_auditor_signs_in_searches_a_case_sees_its_timeline_and_hand_offs_and_exports_it(
    services: RunningServices, stack: LocalStack, workbench: str, tmp_path: Path
) -> None:
    screenshot = tmp_path / "audit-page.png"
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    counter = ("chiku-fukushi-mutsuai", AgencyType.DISTRICT_WELFARE_COUNTER)
    async with await services.as_agency(*counter) as intake:
        case_id = (
            await intake.post(
                "/v1/consultations",
                json={
                    "receiving_agency": counter[0],
                    "staff_id": "m-2",
                    "channel": "counter",
                    "district": "mutsuai",
                    "domains": ["elderly"],
                },
            )
        ).json()["case_id"]
    pool = services.runtime("audit").pool
    await eventually(lambda: pool.fetchval("SELECT count(*) >= 3 FROM ledger WHERE case_id = $1", case_id), within=30)
    queries_before = await pool.fetchval("SELECT count(*) FROM ledger WHERE topic = 'audit.queries'")
    counter_name = directory.load().agencies[counter[0]].name

    # The audit service's front page holds no search of its own any more: it links to the workbench's.
    async with services.client("audit") as audit:
        front = await audit.get("/")
    assert front.status_code == 200 and 'href="http://127.0.0.1:8106/audit"' in front.text
    assert "<input" not in front.text and "<script" not in front.text  # nothing asks for a token any more

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        # An agency's staff member is refused the auditors' pages, and the page says why.
        centre = await sign_in(browser, workbench, CENTRE_STAFF, secrets.demo_staff_passwords[CENTRE_STAFF])
        refused = await centre.goto(f"{workbench}/audit?kind=case_id&key={case_id}")
        assert refused is not None and refused.status == 403
        assert "監査担当" in (await centre.text_content("p.error") or "")
        assert case_id not in await centre.content()

        # The auditor (of no agency) lands on the auditors' search, and may open nothing else.
        page = await sign_in(
            browser,
            workbench,
            "city-auditor",
            secrets.demo_staff_passwords["city-auditor"],
            lands_on="/audit",
            viewport=DESKTOP,
        )
        inbox = await page.request.get(f"{workbench}/inbox")
        assert inbox.status == 403
        await page.fill("#key", case_id)
        await page.click("form[role=search] button[type=submit]")
        await page.wait_for_selector("#timeline tbody tr")
        table = await page.text_content("#timeline")
        assert table is not None and "相談受付" in table and "つなぎ提案" in table
        assert counter_name in table and counter[0] not in table  # agencies by their names, not their ids
        moves = await page.locator("#handoffs li").all_text_contents()
        assert len(moves) == 1 and moves[0].count("→") == 1 and counter_name in moves[0]
        async with page.expect_download() as download:
            await page.click("#csv")
        exported = await (await download.value).path()
        assert exported is not None
        assert (await asyncio.to_thread(Path(exported).read_text, encoding="utf-8")).startswith("seq,time,what")
        await page.screenshot(path=str(screenshot), full_page=True)
        # Switching to English keeps the search: the same case's timeline, now in English.
        await page.click("header a[hreflang=en]")
        await page.wait_for_selector("html[lang=en] #timeline tbody tr")
        assert case_id in page.url and await page.input_value("#key") == case_id
        assert "consultation received" in (await page.text_content("#timeline") or "")

        await page.goto(f"{workbench}/audit/yearly?lang=en")
        yearly = await page.text_content("#yearly") or ""
        assert "consultation received" in yearly and "uncoded" not in yearly
        await page.click("header a[hreflang=ja]")
        await page.wait_for_selector("html[lang=ja] #yearly")
        assert "uncoded" not in (await page.text_content("#yearly") or "")
        await page.goto(f"{workbench}/audit/yearly?lang=en")
        await page.goto(f"{workbench}/audit/unanswered?lang=ja")  # the English of above is remembered
        assert await page.text_content("h1") == "未回答のつなぎ"
        await page.goto(f"{workbench}/audit/disclosures?case_id={uuid.uuid4()}")
        assert await page.locator("#nothing").count() == 1
        await browser.close()
    assert screenshot.stat().st_size > 10_000  # kept in the test's tmp_path for a person to look at
    # Each search went to audit with the auditor's own token, and audit recorded it: the timeline, its CSV,
    # the yearly figures, the unanswered referrals and the disclosures.
    await eventually(
        lambda: pool.fetchval("SELECT count(*) >= $1 FROM ledger WHERE topic = 'audit.queries'", queries_before + 5),
        within=10,
    )
