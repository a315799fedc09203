"""Every page of the workbench checked with axe-core in Debian's Chromium, at a desktop's width and at 375 px
(an on-call phone), in Japanese and in English: no serious or critical violation. The pages are found from
the app's own GET routes, so a new page is checked here or listed with the reason it is not a page.

Also here, what a browser must not get: an agency's token replayed to the workbench opens nothing (the
workbench knows staff sessions only), and a referral a centre declines in the browser goes on to the next
agency of the route, whose inbox shows the new proposal.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass

import httpx
import pytest
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from fastapi.routing import APIRoute
from playwright.async_api import Page, async_playwright
from starlette.routing import BaseRoute

from backbone import directory
from devtools.local.postgres import LocalSecrets
from devtools.local.realm import WORKBENCH_URL
from devtools.local.stack import LocalStack
from schemas.vocabulary import District, SupportDomain
from services.referral.routing import candidates
from services.workbench.app import build_app
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.test_workbench_consultation import fill_sheet
from tests.integration.test_workbench_meetings import COORDINATOR_STAFF, a_meeting_of_backup_fujisawa
from tests.integration.test_workbench_outreach import an_engagement_of_shakyo
from tests.integration.workbench_browser import (
    CENTRE_STAFF,
    CHROMIUM,
    COUNTER,
    DESKTOP,
    FLAGS,
    PHONE,
    refer_an_elderly_person_of_katase,
    running_workbench,
    sign_in,
)

AUDITOR = "city-auditor"
COUNTER_STAFF = "katase-counter"
SUPERVISOR = "sogo-supervisor"
FAILING = ("serious", "critical")

SHEET_SENT = "/sheet/sent/{case_id}/{consultation_id}/{kind}"
NOT_PAGES = {
    "/inbox/rows": "a fragment of the inbox, checked inside /inbox",
    "/audit/timeline.csv": "a CSV download",
    "/health": "liveness, JSON for the operators' probes",
    "/ready": "readiness, JSON for the operators' probes",
    "/meetings/{meeting_id}/invitation.ics": "an iCalendar file (RFC 5545) to download, no page",
    "/metrics": "Prometheus' text for the operators' scrapes, no page for staff",
}


@dataclass(frozen=True)
class Visit:
    """A page to check: its route, who opens it (None: signed out), its address and the status it answers."""

    route: str
    who: str | None
    address: str
    status: int = 200


@pytest.fixture
async def workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    async with running_workbench(services, stack) as url:
        yield url


def get_routes(stack: LocalStack) -> set[str]:
    """The workbench's GET routes (the app is only built, not started: nothing is opened)."""

    def walk(routes: Iterable[BaseRoute], prefix: str) -> Iterator[str]:
        for route in routes:
            if isinstance(route, APIRoute) and "GET" in route.methods:
                yield prefix + route.path
            elif hasattr(route, "original_router"):  # FastAPI keeps an included router as one route of its own
                yield from walk(route.original_router.routes, prefix + route.include_context.prefix)

    found = set(walk(build_app(stack.workbench_settings()).routes, ""))
    assert {"/", "/inbox", "/audit"} <= found, f"the routes were not found: {found}"
    return found


async def violations(page: Page, where: str) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now, one line each."""
    results = (await Axe().run(page)).response
    assert results["passes"], f"{where}: axe checked nothing"  # it ran, on a page with content
    found = results["violations"]
    return [
        f"{where}: {v['id']} ({v['impact']}) {v['help']} at {', '.join(str(n['target']) for n in v['nodes'])}"
        for v in found
        if v["impact"] in FAILING
    ]


async def check(page: Page, where: str) -> list[str]:
    """The page at a desktop's width and at a phone's, where nothing may make the whole page scroll sideways (a
    wide table scrolls in its own box)."""
    findings = []
    for size in (DESKTOP, PHONE):
        await page.set_viewport_size(size)  # type: ignore[arg-type]
        findings += await violations(page, f"{where} at {size['width']} px")
        wider = await page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        if wider > 0:
            findings.append(f"{where} at {size['width']} px: the page is {wider} px wider than the screen")
    return findings


async def test_every_page_has_no_serious_or_critical_accessibility_violation(
    services: RunningServices, stack: LocalStack, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    case_id, referral_id = await refer_an_elderly_person_of_katase(services, f"一郎{uuid.uuid4().hex[:4]}")
    _, meeting_id = await a_meeting_of_backup_fujisawa(services)
    outreach_id = await an_engagement_of_shakyo(services, case_id)  # on the case referred to the centre
    visits = [
        Visit("/", None, "/"),
        Visit("/auth/callback", None, "/auth/callback?state=stale&code=stale", 400),
        Visit("/inbox", CENTRE_STAFF, "/inbox"),
        Visit("/referrals/{referral_id}", CENTRE_STAFF, f"/referrals/{referral_id}"),
        Visit("/referrals/{referral_id}", CENTRE_STAFF, f"/referrals/{uuid.uuid4()}", 404),
        Visit("/audit", CENTRE_STAFF, "/audit", 403),
        Visit("/audit", AUDITOR, f"/audit?kind=case_id&key={case_id}"),
        Visit("/audit", AUDITOR, "/audit?kind=trace_id&key=not-a-trace", 422),
        Visit("/audit/disclosures", AUDITOR, f"/audit/disclosures?case_id={case_id}"),
        Visit("/audit/unanswered", AUDITOR, "/audit/unanswered"),
        Visit("/audit/yearly", AUDITOR, "/audit/yearly"),
        Visit("/inbox", AUDITOR, "/inbox", 403),
        Visit("/sheet", COUNTER_STAFF, "/sheet"),
        Visit("/notifications", CENTRE_STAFF, "/notifications"),
        Visit("/agency", CENTRE_STAFF, "/agency"),  # read only
        Visit("/agency", SUPERVISOR, "/agency"),  # with the capacity and roster forms
        Visit("/cases", CENTRE_STAFF, "/cases"),
        Visit("/cases/{case_id}", CENTRE_STAFF, f"/cases/{case_id}"),
        Visit("/cases/{case_id}", CENTRE_STAFF, f"/cases/{uuid.uuid4()}", 404),
        Visit("/meetings", COORDINATOR_STAFF, "/meetings"),
        Visit("/meetings/{meeting_id}", COORDINATOR_STAFF, f"/meetings/{meeting_id}"),  # with the forms
        Visit("/meetings/{meeting_id}", CENTRE_STAFF, f"/meetings/{meeting_id}"),  # a participant: no forms
        Visit("/meetings/{meeting_id}", COORDINATOR_STAFF, f"/meetings/{uuid.uuid4()}", 404),
        Visit("/outreach/{outreach_id}", COORDINATOR_STAFF, f"/outreach/{outreach_id}"),  # with the forms
        Visit("/outreach/{outreach_id}", CENTRE_STAFF, f"/outreach/{outreach_id}"),  # involved: no forms
        Visit("/outreach/{outreach_id}", COORDINATOR_STAFF, f"/outreach/{uuid.uuid4()}", 404),
    ]
    routes = get_routes(stack)
    unchecked = routes - {visit.route for visit in visits} - {SHEET_SENT} - NOT_PAGES.keys()
    assert not unchecked, f"pages without an accessibility check: {unchecked}; add a Visit, or a reason to NOT_PAGES"

    findings: list[str] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        pages: dict[str | None, Page] = {None: await (await browser.new_context(viewport=DESKTOP)).new_page()}  # type: ignore[arg-type]
        for who in {visit.who for visit in visits if visit.who and visit.route in routes}:
            landing = "/audit" if who == AUDITOR else "/inbox"
            pages[who] = await sign_in(
                browser, workbench, who, secrets.demo_staff_passwords[who], lands_on=landing, viewport=DESKTOP
            )
        for visit in visits:
            if visit.route not in routes:  # a page not built yet
                continue
            page = pages[visit.who]
            for lang in ("ja", "en"):
                joiner = "&" if "?" in visit.address else "?"
                answer = await page.goto(f"{workbench}{visit.address}{joiner}lang={lang}")
                assert answer is not None and answer.status == visit.status, (visit, answer and answer.status)
                assert await page.get_attribute("html", "lang") == lang
                findings += await check(page, f"{visit.address} ({visit.who or 'signed out'}, {lang})")

        # The pages a form leads to: the decline form with its problems beside the fields (no reason given) ...
        centre = pages[CENTRE_STAFF]
        await centre.goto(f"{workbench}/referrals/{referral_id}?lang=ja")
        await centre.click("form[action$='/decline'] button[type=submit]")
        await centre.wait_for_selector("#reason-problem")
        findings += await check(centre, "the decline form with its problems")
        if "/meetings/{meeting_id}" in routes:  # ... a meeting's time form with its problem beside the field
            coordinator = pages[COORDINATOR_STAFF]
            await coordinator.goto(f"{workbench}/meetings/{meeting_id}?lang=ja")
            await coordinator.fill("#ends", "")
            await coordinator.click("#schedule")
            await coordinator.wait_for_selector("#ends-problem")
            findings += await check(coordinator, "a meeting's time form with its problems")
        if SHEET_SENT in routes:  # ... the つなぐシート with its problems, and the page of a sheet sent
            counter = pages[COUNTER_STAFF]
            await counter.goto(f"{workbench}/sheet?lang=ja")
            await counter.click("#submit")
            await counter.wait_for_selector("[aria-invalid=true]")
            findings += await check(counter, "the つなぐシート with its problems")
            await fill_sheet(counter, workbench, given_name=f"三郎{uuid.uuid4().hex[:4]}")
            await counter.click("#submit")
            await counter.wait_for_url(f"{workbench}/sheet/sent/**")
            findings += await check(counter, "a つなぐシート sent")
        await browser.close()
    assert not findings, "\n".join(findings)


def next_candidate(after: str) -> str:
    """The agency the route names after `after` for an elderly person of Katase (as referral routes)."""
    routes = [route.agency for route in candidates(directory.load(), District.KATASE, (SupportDomain.ELDERLY,))]
    return routes[routes.index(after) + 1]


async def test_a_decline_in_the_browser_reroutes_and_an_agency_token_from_a_browser_is_refused(
    services: RunningServices, stack: LocalStack, workbench: str
) -> None:
    secrets = LocalSecrets.load_or_create(stack.paths.secrets)
    given_name = f"次郎{uuid.uuid4().hex[:4]}"
    case_id, referral_id = await refer_an_elderly_person_of_katase(services, given_name)
    following = next_candidate(CENTRE_STAFF)
    following_type = directory.load().agencies[following].type
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
        centre = await sign_in(browser, workbench, CENTRE_STAFF, secrets.demo_staff_passwords[CENTRE_STAFF])
        await centre.goto(f"{workbench}/referrals/{referral_id}")
        await centre.select_option("#reason", "no-capacity")
        await centre.fill("#note", "今月は受入れ枠がありません")
        await centre.click("form[action$='/decline'] button[type=submit]")
        await centre.wait_for_selector("p.done")
        assert await centre.get_attribute("#state", "data-state") == "declined"

        # The next agency of the route is asked: the new proposal is in its inbox (as its system reads it) ...
        async with await services.as_agency(following, following_type, "referral") as next_agency:
            proposal: dict[str, object] = {}

            async def in_its_inbox() -> bool:
                inbox = (await next_agency.get("/v1/inbox")).json()
                proposal.update(next((r for r in inbox if r["case_id"] == case_id), {}))
                return bool(proposal)

            await eventually(in_its_inbox, within=30)
        assert proposal["referral_id"] != referral_id and proposal["attempt"] == 2
        assert proposal["from_agency"] == COUNTER[0] and proposal["state"] == "proposed"
        # ... and no longer in the centre's.
        await centre.goto(f"{workbench}/inbox")
        assert await centre.locator(f'tr[data-referral="{referral_id}"]').count() == 0

        # The counter's own agency token, replayed from a browser, opens nothing: no page, no fragment, no post.
        token = await services.token(*COUNTER)
        replay = await browser.new_context(extra_http_headers={"Authorization": f"Bearer {token}"})
        page = await replay.new_page()
        for address in ("/inbox", f"/referrals/{proposal['referral_id']}", "/audit"):
            await page.goto(workbench + address)
            assert page.url.startswith(f"{workbench}/?next="), address  # sent to sign in
            shown = await page.content()
            assert given_name not in shown and "買い物" not in shown and "<table" not in shown
        fragment = await page.request.get(f"{workbench}/inbox/rows")
        assert fragment.status == 401
        await browser.close()
    async with httpx.AsyncClient(base_url=workbench, headers={"Authorization": f"Bearer {token}"}) as replayed:
        started = await replayed.post(
            f"/referrals/{proposal['referral_id']}/accept", data={"csrf": "x"}, headers={"Origin": WORKBENCH_URL}
        )
        assert started.status_code == 401
        assert (await replayed.get("/audit/timeline.csv", params={"key": case_id})).status_code == 303
    async with await services.as_coordinator("referral") as referral:
        assert (await referral.get(f"/v1/referrals/{proposal['referral_id']}")).json()["state"] == "proposed"
