"""つなぐシート in a real browser, through Keycloak's real login form: a counter's staff member submits a
consultation from the form (its reading in half-width katakana, its birth date in the Japanese era), the centre's
staff member sees the referral appear in the inbox and accepts it, and the counter sees it accepted. The same
sheet sent three times is one consultation; a sheet with problems shows each beside its field and stores nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import uuid

from playwright.async_api import Browser, Page, async_playwright

from devtools.local.keycloak import LocalKeycloak
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from tests.integration import test_workbench
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.workbench_browser import CENTRE_STAFF, CHROMIUM, FLAGS, sign_in, subject_of

# The fixtures of the workbench's browser tests: the local Keycloak, and the workbench serving on its port.
keycloak = test_workbench.keycloak
workbench = test_workbench.workbench

COUNTER = "chiku-fukushi-katase"
COUNTER_STAFF = "katase-counter"  # 地区福祉窓口（片瀬）
FORM_BODY = "() => new URLSearchParams(new FormData(document.getElementById('form'))).toString()"


async def fill_sheet(
    page: Page, base: str, *, given_name: str, given_kana: str = "ﾊﾅｺ", district: str = "katase"
) -> None:
    """An elderly person of Katase, born 昭和16年5月5日, who agreed to share with community support centres."""
    await page.goto(base + "/sheet")
    await page.fill("#family_name", "片瀬")
    await page.fill("#given_name", given_name)
    await page.fill("#family_name_kana", "かたせ")
    await page.fill("#given_name_kana", given_kana)
    await page.select_option("#birth_era", "showa")
    await page.fill("#birth_year", "16")
    await page.select_option("#birth_month", "5")
    await page.select_option("#birth_day", "5")
    await page.fill("#phone", "0466-00-0000")
    await page.select_option("#channel", "counter")
    await page.select_option("#district", district)
    await page.check("input[name=domain][value=elderly]")
    await page.check("input[name=urgency][value=urgent]")
    await page.fill("#summary", "一人暮らし。最近、買い物に行けていない。")
    await page.check("input[name=consent_scope][value=types]")
    await page.check("input[name=consent_type][value=community-support-centre]")
    await page.check("input[name=consent_purpose][value=support]")
    await page.check("input[name=consent_purpose][value=referral]")
    await page.check("input[name=consent_method][value=verbal]")


async def consultations(services: RunningServices, *, case_id: str | None = None, agency: str | None = None) -> int:
    """intake's consultations of a case, or taken in by an agency."""
    count: int = await services.runtime("intake").pool.fetchval(
        "SELECT count(*) FROM consultations WHERE case_id = $1 OR receiving_agency = $2",
        uuid.UUID(case_id) if case_id else None,
        agency,
    )
    return count


async def signed_in_pair(browser: Browser, base: str, secrets: LocalSecrets) -> tuple[Page, Page]:
    counter = await sign_in(browser, base, COUNTER_STAFF, secrets.demo_staff_passwords[COUNTER_STAFF])
    centre = await sign_in(browser, base, CENTRE_STAFF, secrets.demo_staff_passwords[CENTRE_STAFF])
    return counter, centre


async def test_a_counter_submits_a_sheet_once_however_often_it_is_sent_the_centre_accepts_and_the_counter_sees_it(
    services: RunningServices, stack: LocalStack, keycloak: LocalKeycloak, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    given_name = f"花子{uuid.uuid4().hex[:4]}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        counter, centre = await signed_in_pair(browser, workbench, secrets)
        await counter.click("nav.pages a[href='/sheet']")
        await fill_sheet(counter, workbench, given_name=given_name)
        assert await counter.text_content("#birth-era") == "昭和16年（1941年）5月5日"  # the era, shown as typed

        # The same sheet twice at once (a double press), then once more from the page: one consultation.
        body = await counter.evaluate(FORM_BODY)
        posted = await asyncio.gather(
            *(
                counter.request.post(
                    f"{workbench}/sheet",
                    data=body,
                    headers={"Content-Type": "application/x-www-form-urlencoded"},
                    max_redirects=0,
                )
                for _ in range(2)
            )
        )
        assert [answer.status for answer in posted] == [303, 303]
        results = sorted(answer.headers["location"] for answer in posted)
        assert results[0].split("?")[0] == results[1].split("?")[0] and results[1].endswith("?again=1")
        await counter.click("#submit")
        await counter.wait_for_url(f"{workbench}/sheet/sent/**")
        assert await counter.is_visible("#again")
        case_id = (await counter.text_content("#case-id") or "").strip()
        consultation_id = (await counter.text_content("#consultation-id") or "").strip()
        assert results[0].startswith(f"/sheet/sent/{case_id}/{consultation_id}/new")
        assert await counter.get_attribute("#case-kind", "data-new") == "1"
        assert await consultations(services, case_id=case_id) == 1
        # intake keeps the staff member's opaque id, derived from their subject, never their name.
        subject = await subject_of(keycloak, secrets, COUNTER_STAFF)
        staff_id = await services.runtime("intake").pool.fetchval(
            "SELECT staff_id FROM consultations WHERE consultation_id = $1", uuid.UUID(consultation_id)
        )
        assert staff_id == hashlib.sha256(subject.encode()).hexdigest()[:16]

        referral_client = await services.as_coordinator("referral")
        referral_id = ""

        async def proposed() -> bool:
            nonlocal referral_id
            answer = (await referral_client.get("/v1/referrals", params={"case_id": case_id})).json()
            referral_id = next((r["referral_id"] for r in answer if r["to_agency"] == CENTRE_STAFF), "")
            return bool(referral_id)

        await eventually(proposed, within=30)
        # From the moment referral holds it, the centre's open inbox shows it within 2 s.
        row = centre.locator(f'tr[data-referral="{referral_id}"]')
        await row.wait_for(timeout=2_000)
        await row.get_by_role("link").click()
        await centre.wait_for_url(f"{workbench}/referrals/{referral_id}")
        person = await centre.text_content("#person") or ""
        assert given_name in person and "カタセ ハナコ" in person and "1941-05-05" in person  # readings in katakana
        await centre.click("#accept")
        await centre.wait_for_selector("p.done")

        # The counter took the consultation in, so it is involved in the case and follows the answer.
        await counter.click("#reload")
        mine = counter.locator(f'#referrals tr[data-referral="{referral_id}"]')
        assert await mine.get_attribute("data-state") == "accepted"
        assert "受入れ済み" in (await mine.text_content() or "")
        await mine.get_by_role("link").click()
        await counter.wait_for_url(f"{workbench}/referrals/{referral_id}")
        assert await counter.get_attribute("#state", "data-state") == "accepted"
        assert await counter.locator("#accept, #start").count() == 0  # the answers are the centre's
        await referral_client.aclose()
        await browser.close()


async def test_a_sheet_with_problems_shows_each_beside_its_field_stores_nothing_and_is_sent_once_corrected(
    services: RunningServices, stack: LocalStack, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    given_name = f"次郎{uuid.uuid4().hex[:4]}"
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        counter = await sign_in(browser, workbench, COUNTER_STAFF, secrets.demo_staff_passwords[COUNTER_STAFF])
        before = await consultations(services, agency=COUNTER)
        await fill_sheet(counter, workbench, given_name=given_name, given_kana="Jiro", district="")
        sheet_key = await counter.get_attribute("input[name=sheet_key]", "value")
        await counter.click("#submit")  # intake finds both problems and answers 422: nothing is stored
        await counter.wait_for_selector("#problems")
        assert "ひらがなかカタカナ" in (await counter.text_content("#given_name_kana-problem") or "")
        assert await counter.get_attribute("#given_name_kana", "aria-invalid") == "true"
        assert "地区を選んでください" in (await counter.text_content("#district-problem") or "")
        assert await counter.get_attribute("#district", "aria-invalid") == "true"
        assert not await counter.is_visible("#family_name-problem")
        assert await counter.input_value("#given_name") == given_name  # what was written stays
        assert await consultations(services, agency=COUNTER) == before

        # The era that is not one (昭和65年) is found by the form itself, together with what intake would refuse.
        await counter.fill("#birth_year", "65")
        await counter.click("#submit")
        await counter.wait_for_selector("#birth_date-problem")
        assert await counter.is_visible("#given_name_kana-problem") and await counter.is_visible("#district-problem")
        assert await consultations(services, agency=COUNTER) == before

        await counter.fill("#birth_year", "16")
        await counter.fill("#given_name_kana", "じろう")
        await counter.select_option("#district", "katase")
        assert await counter.get_attribute("input[name=sheet_key]", "value") == sheet_key  # still the same sheet
        await counter.click("#submit")
        await counter.wait_for_url(f"{workbench}/sheet/sent/**")
        assert await consultations(services, agency=COUNTER) == before + 1

        # In English, the same problem reads in English beside the same field.
        await counter.goto(f"{workbench}/sheet?lang=en")
        await counter.select_option("#district", "katase")
        await counter.check("input[name=domain][value=poverty]")
        await counter.select_option("#channel", "phone")
        await counter.check("#anonymous")
        await counter.check("input[name=consent_scope][value=agencies]")  # but no agency named
        await counter.click("#submit")
        await counter.wait_for_selector("#consent_scope-problem")
        assert "tick at least one" in (await counter.text_content("#consent_scope-problem") or "")
        assert await consultations(services, agency=COUNTER) == before + 1
        await browser.close()


async def test_an_8050_household_is_taken_in_on_two_sheets_as_one_case(
    services: RunningServices, stack: LocalStack, keycloak: LocalKeycloak, workbench: str
) -> None:
    """The mother's sheet starts a household and shows its number; the son's sheet, brought by the family, names
    it and joins her case. A number the counter's agency has no part in is refused beside the field."""
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        counter = await sign_in(browser, workbench, COUNTER_STAFF, secrets.demo_staff_passwords[COUNTER_STAFF])
        await fill_sheet(counter, workbench, given_name=f"花子{uuid.uuid4().hex[:4]}")
        await counter.check("input[name=household][value=new]")
        await counter.select_option("#relation", "head")
        await counter.click("#submit")
        await counter.wait_for_url(f"{workbench}/sheet/sent/**")
        household = await counter.text_content("#household-id") or ""
        mother_case = await counter.text_content("#case-id")
        assert uuid.UUID(household) and await counter.get_attribute("#case-kind", "data-new") == "1"

        async def sons_sheet(number: str) -> None:
            await fill_sheet(counter, workbench, given_name=f"一郎{uuid.uuid4().hex[:4]}")
            await counter.fill("#birth_year", "48")  # 昭和48年: in his fifties
            await counter.uncheck("input[name=domain][value=elderly]")
            await counter.check("input[name=domain][value=withdrawal]")
            await counter.check("input[name=consent_scope][value=none]")
            await counter.check("input[name=consulted_by][value=family]")
            await counter.check("input[name=household][value=join]")
            await counter.fill("#household_id", number)
            await counter.select_option("#relation", "child")
            await counter.click("#submit")

        before = await consultations(services, agency=COUNTER)
        await sons_sheet(str(uuid.uuid4()))  # not a household this counter takes part in
        await counter.wait_for_selector("#household_id-problem")
        assert await counter.get_attribute("#household_id", "aria-invalid") == "true"
        assert await consultations(services, agency=COUNTER) == before

        await sons_sheet(household)
        await counter.wait_for_url(f"{workbench}/sheet/sent/**")
        assert await counter.text_content("#case-id") == mother_case
        assert await counter.get_attribute("#case-kind", "data-new") == "0"
        assert await counter.text_content("#household-id") == household
        await browser.close()
