"""The README's pictures of the workbench, taken the way a staff member sees it: Debian's Chromium, signed in as
the demo staff member of いきいきサポートセンター片瀬 through Keycloak's real login form, at a desktop's width.

- `workbench-inbox.png`: the top of the centre's open inbox (受付箱), a referral that just arrived on top (新着);
- `workbench-referral.png`: a referral the Katase counter has just made, with the person shown under consent.

The person is fictional: 見本 春子 (見本 is "sample"), born on a random day of the 1940s, so that every run makes a
new case instead of joining an earlier run's. The counter withdraws the referral afterwards. To write the
pictures into docs/ (the README's), name the folder:

    BACKBONE_SCREENSHOTS=docs flock /tmp/backbone-it.lock \\
        .venv/bin/python -m pytest -q -p no:cacheprovider tests/integration/test_workbench_screenshots.py

Without BACKBONE_SCREENSHOTS they land in the test's tmp_path, for a person to look at.
"""

from __future__ import annotations

import os
import random
from collections.abc import AsyncIterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from playwright.async_api import async_playwright

from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.workbench_browser import (
    CENTRE_STAFF,
    CHROMIUM,
    COUNTER,
    DESKTOP,
    FLAGS,
    running_workbench,
    sign_in,
)


@pytest.fixture
async def workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    async with running_workbench(services, stack) as url:
        yield url


def sample_person() -> dict[str, str]:
    born = date(1940, 1, 1) + timedelta(days=random.randrange(3650))  # a sample, not a secret
    return {
        "family_name": "見本",
        "given_name": "春子",
        "family_name_kana": "ミホン",
        "given_name_kana": "ハルコ",
        "birth_date": born.isoformat(),
        "phone": "0466-00-0000",
    }


async def refer(services: RunningServices) -> str:
    """The Katase counter submits an urgent consultation of a (fictional) elderly person; returns its case id."""
    async with await services.as_agency(*COUNTER) as intake:
        submitted = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": COUNTER[0],
                "staff_id": "katase-012",
                "channel": "counter",
                "district": "katase",
                "domains": ["elderly"],
                "urgency": "urgent",
                "personal": {
                    "summary": "一人暮らし。膝を痛めてから買い物に行けず、食事が偏っている。娘は県外。",
                    "person": sample_person(),
                },
                "consent": {
                    "scope": {"agency_types": ["community-support-centre"]},
                    "purposes": ["support", "referral"],
                    "method": "written",
                },
            },
        )
    assert submitted.status_code == 201, submitted.text
    return str(submitted.json()["case_id"])


async def test_the_readmes_pictures_of_the_inbox_and_of_a_referral(
    services: RunningServices, stack: LocalStack, workbench: str, tmp_path: Path
) -> None:
    out = Path(os.environ.get("BACKBONE_SCREENSHOTS") or tmp_path)
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    referral_client: httpx.AsyncClient | None = None
    referral_id = ""
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            centre = await sign_in(
                browser, workbench, CENTRE_STAFF, secrets.demo_staff_passwords[CENTRE_STAFF], viewport=DESKTOP
            )
            # The counter refers a person while the centre's inbox is open: it arrives on top, marked 新着.
            case_id = await refer(services)
            # After the submission: asking for the counter's token again replaces the one intake was sent with.
            referral_client = client = await services.as_agency(*COUNTER, "referral")

            async def referred() -> bool:
                nonlocal referral_id
                answer = await client.get("/v1/referrals", params={"case_id": case_id})
                if answer.status_code != 200:  # referral has not taken the consultation in yet
                    return False
                referral_id = next((r["referral_id"] for r in answer.json() if r["to_agency"] == CENTRE_STAFF), "")
                return bool(referral_id)

            await eventually(referred, within=30)
            await centre.locator(f'tr.arrived[data-referral="{referral_id}"]').wait_for(timeout=5_000)
            await centre.screenshot(path=str(out / "workbench-inbox.png"))  # the top of it: it may be long
            await centre.goto(f"{workbench}/referrals/{referral_id}")
            assert "見本 春子" in (await centre.text_content("#person") or "")
            assert "買い物" in (await centre.text_content("#summary") or "")
            await centre.screenshot(path=str(out / "workbench-referral.png"), full_page=True)
            await browser.close()
    finally:
        if referral_client is not None:
            if referral_id:
                await referral_client.post(f"/v1/referrals/{referral_id}/cancel", json={"reason": "no-longer-needed"})
            await referral_client.aclose()
    for picture in ("workbench-inbox.png", "workbench-referral.png"):
        assert (out / picture).stat().st_size > 10_000
