"""The auditors' page in a real headless browser (Debian's Chromium, driven by Playwright)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import uvicorn
from playwright.async_api import async_playwright

from schemas.vocabulary import AgencyType
from tests.integration.kafka_tools import eventually
from tests.integration.receivers import free_port
from tests.integration.services import RunningServices

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture
async def audit_url(services: RunningServices) -> AsyncIterator[str]:
    """The audit app, already running in the tests, served on a loopback port for the browser."""
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(services.apps["audit"], host="127.0.0.1", port=port, lifespan="off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    await eventually(lambda: server.started, within=10)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    await task


async def test_an_auditor_searches_a_case_sees_its_timeline_and_hand_offs_and_exports_it(
    services: RunningServices, audit_url: str, tmp_path: Path
) -> None:
    screenshot = tmp_path / "audit-page.png"
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
    auditor_token = await services.token(f"kansa-{uuid.uuid4().hex[:6]}", AgencyType.AUDITOR)
    agency_token = await services.token(counter[0], counter[1])

    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        page = await browser.new_page(viewport={"width": 1200, "height": 900}, accept_downloads=True)
        await page.goto(audit_url + "/")
        # An agency that is not an auditor is refused, and the page says why.
        await page.fill("#token", agency_token)
        await page.fill("#key", case_id)
        await page.click("button[type=submit]")
        await page.wait_for_function("document.getElementById('error').textContent.length > 0")
        assert "auditor" in await page.text_content("#error")  # type: ignore[operator]

        await page.fill("#token", auditor_token)
        await page.click("button[type=submit]")
        await page.wait_for_selector("#timeline tbody tr")
        table = await page.text_content("#timeline")
        assert table is not None and "相談受付" in table and "つなぎ提案" in table
        assert await page.locator("#handoffs rect").count() == 2  # the counter and the centre it referred to
        async with page.expect_download() as download:
            await page.click("#csv")
        exported = await (await download.value).path()
        assert exported is not None
        assert (await asyncio.to_thread(Path(exported).read_text, encoding="utf-8")).startswith("seq,time,what")
        await page.screenshot(path=str(screenshot), full_page=True)
        await browser.close()
    assert screenshot.stat().st_size > 10_000  # kept in the test's tmp_path for a person to look at
