"""The workbench in a real browser (Debian's Chromium, driven by Playwright), signed in through the real
identity provider's login form (the local Keycloak), calling the services as the staff member.

A counter's system submits a consultation; the centre's staff member sees the referral appear in the
inbox without reloading, opens it (the person is shown under consent, a disclosure on record) and accepts
it: the referral is accepted and its event names the staff member by their subject id. A member of an
agency not involved gets nothing of it. Forms without the session's CSRF token, or from another site, are
refused, and after signing out the old cookie opens nothing.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from playwright.async_api import async_playwright

from devtools.local.keycloak import LocalKeycloak
from devtools.local.postgres import LocalSecrets
from devtools.local.realm import WORKBENCH_URL
from devtools.local.stack import LocalStack
from tests.integration.services import RunningServices
from tests.integration.workbench_browser import (
    CENTRE_STAFF,
    CHROMIUM,
    COUNTER,  # noqa: F401 - for the browser tests that import it from here
    FLAGS,
    refer_an_elderly_person_of_katase,
    running_workbench,
    serving,  # noqa: F401 - for the browser tests that import it from here
    sign_in,
    subject_of,
)

UNINVOLVED_STAFF = "sogo-supervisor"  # 福祉総合相談支援センター: neither referred nor a coordinator


@pytest.fixture(scope="session")
def keycloak(stack: LocalStack) -> LocalKeycloak:
    """The local Keycloak, which `up --infra` (the stack fixture) started."""
    return stack.keycloak


@pytest.fixture
async def workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    """The workbench as `backbone up` configures it, calling the in-process services over HTTP."""
    async with running_workbench(services, stack) as url:
        yield url


async def test_a_centre_sees_a_new_referral_live_reads_the_person_under_consent_and_accepts_it(
    services: RunningServices, stack: LocalStack, keycloak: LocalKeycloak, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    given_name = f"花子{uuid.uuid4().hex[:4]}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        centre = await sign_in(browser, workbench, CENTRE_STAFF, secrets.demo_staff_passwords[CENTRE_STAFF])
        assert "受付箱" in (await centre.text_content("h1") or "")
        await centre.evaluate("window.notReloaded = true")

        case_id, referral_id = await refer_an_elderly_person_of_katase(services, given_name)
        referral_client = await services.as_coordinator("referral")
        # From the moment referral holds it, the open inbox shows it within 2 s, without a reload.
        row = centre.locator(f'tr[data-referral="{referral_id}"]')
        await row.wait_for(timeout=2_000)
        assert await centre.evaluate("window.notReloaded === true")
        assert "緊急" in (await row.text_content() or "") and "あと" in (await row.text_content() or "")

        await row.get_by_role("link").click()
        await centre.wait_for_url(f"{workbench}/referrals/{referral_id}")
        assert given_name in (await centre.text_content("#person") or "")
        assert "買い物" in (await centre.text_content("#summary") or "")
        await centre.click("#accept")
        await centre.wait_for_selector("p.done")
        assert await centre.get_attribute("#state", "data-state") == "accepted"

        state = (await referral_client.get(f"/v1/referrals/{referral_id}")).json()["state"]
        assert state == "accepted"
        payloads = await services.runtime("referral").pool.fetch(
            "SELECT payload FROM outbox WHERE record_key = $1 AND headers->>'ce_type' LIKE '%referral.accepted.v1'",
            case_id,
        )
        accepted = [json.loads(row["payload"]) for row in payloads]
        assert [event["referral_id"] for event in accepted] == [referral_id]
        assert accepted[0]["by_staff"] == await subject_of(keycloak, secrets, CENTRE_STAFF)

        # A member of an agency with no part in the case: nothing from the page, the fragment or a post.
        outsider = await sign_in(browser, workbench, UNINVOLVED_STAFF, secrets.demo_staff_passwords[UNINVOLVED_STAFF])
        answer = await outsider.goto(f"{workbench}/referrals/{referral_id}")
        assert answer is not None and answer.status == 404
        shown = await outsider.content()
        assert given_name not in shown and "買い物" not in shown and referral_id in outsider.url
        fragment = await outsider.request.get(f"{workbench}/inbox/rows")
        assert fragment.status == 200 and referral_id not in await fragment.text()
        outsider_csrf = await outsider.get_attribute("input[name=csrf]", "value")
        started = await outsider.request.post(
            f"{workbench}/referrals/{referral_id}/start", form={"csrf": outsider_csrf or ""}
        )
        assert started.status == 404 and given_name not in await started.text()

        # CSRF: a post without the session's token, and one from another site, are refused; nothing changes.
        csrf = await centre.get_attribute("input[name=csrf]", "value")
        assert csrf
        without_token = await centre.request.post(f"{workbench}/referrals/{referral_id}/start", form={})
        assert without_token.status == 403
        cross_site = await centre.request.post(
            f"{workbench}/referrals/{referral_id}/start",
            form={"csrf": csrf},
            headers={"Origin": "http://evil.example"},
        )
        assert cross_site.status == 403
        assert (await referral_client.get(f"/v1/referrals/{referral_id}")).json()["state"] == "accepted"

        # Signing out ends the session here and at the provider; the old cookie opens nothing afterwards.
        cookie = next(c["value"] for c in await centre.context.cookies() if c["name"] == "wb_session")
        await centre.click("header form button[type=submit]")
        await centre.wait_for_url(workbench + "/")
        await browser.close()

    async with httpx.AsyncClient(base_url=workbench, cookies={"wb_session": cookie}) as old:
        assert (await old.get("/inbox")).status_code == 303
        assert (await old.get("/inbox/rows")).status_code == 401
        replayed = await old.post(
            f"/referrals/{referral_id}/start", data={"csrf": csrf}, headers={"Origin": WORKBENCH_URL}
        )
        assert replayed.status_code == 401
    assert (await referral_client.get(f"/v1/referrals/{referral_id}")).json()["state"] == "accepted"
    await referral_client.aclose()
