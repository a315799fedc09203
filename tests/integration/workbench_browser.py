"""What the browser tests of the workbench share: Debian's Chromium, the workbench served on the port the
local realm's redirect URI names (calling the in-process services over loopback HTTP), and signing in
through Keycloak's real login form."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

import httpx
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Page

from devtools.local.keycloak import ADMIN_USERNAME, LocalKeycloak
from devtools.local.postgres import LocalSecrets
from devtools.local.realm import REALM
from devtools.local.stack import WORKBENCH_PORT, LocalStack
from schemas.vocabulary import AgencyType
from services.workbench.app import build_app
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
PHONE = {"width": 375, "height": 812}
DESKTOP = {"width": 1280, "height": 900}


@contextlib.asynccontextmanager
async def serving(app: FastAPI, port: int, *, lifespan: bool) -> AsyncIterator[str]:
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on" if lifespan else "off", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: server.started, within=20)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def running_workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    """The workbench as `backbone up` configures it, on the port the realm's redirect URI names, calling the
    in-process intake, referral, meetings, notify and audit over HTTP (served here on loopback ports)."""
    async with (
        serving(services.apps["intake"], free_port(), lifespan=False) as intake,
        serving(services.apps["referral"], free_port(), lifespan=False) as referral,
        serving(services.apps["meetings"], free_port(), lifespan=False) as meetings,
        serving(services.apps["notify"], free_port(), lifespan=False) as notify,
        serving(services.apps["audit"], free_port(), lifespan=False) as audit,
    ):
        settings = stack.workbench_settings()
        options = settings.workbench.model_copy(
            update={
                "intake_url": intake,
                "referral_url": referral,
                "meetings_url": meetings,
                "notify_url": notify,
                "audit_url": audit,
            }
        )
        app = build_app(settings.model_copy(update={"workbench": options}))
        async with serving(app, WORKBENCH_PORT, lifespan=True) as url:
            yield url


async def sign_in(
    browser: Browser,
    base: str,
    username: str,
    password: str,
    *,
    lands_on: str = "/inbox",
    viewport: dict[str, int] | None = None,
) -> Page:
    """Through the workbench's sign-in button and Keycloak's own login form, back to the workbench."""
    page = await (await browser.new_context(viewport=viewport or PHONE)).new_page()  # type: ignore[arg-type]
    await page.goto(base + "/")
    await page.click("button[type=submit]")
    await page.wait_for_selector("#kc-login")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#kc-login")
    await page.wait_for_url(base + lands_on)
    return page


async def subject_of(keycloak: LocalKeycloak, secrets: LocalSecrets, username: str) -> str:
    """The user's opaque id as Keycloak's admin API reports it: what `by_staff` must say."""
    async with httpx.AsyncClient(base_url=keycloak.url) as admin:
        token = (
            await admin.post(
                "/realms/master/protocol/openid-connect/token",
                data={
                    "grant_type": "password",
                    "client_id": "admin-cli",
                    "username": ADMIN_USERNAME,
                    "password": secrets.keycloak_admin_password,
                },
            )
        ).json()["access_token"]
        users = await admin.get(
            f"/admin/realms/{REALM}/users",
            params={"username": username, "exact": "true"},
            headers={"Authorization": f"Bearer {token}"},
        )
    return str(users.json()[0]["id"])


COUNTER = ("chiku-fukushi-katase", AgencyType.DISTRICT_WELFARE_COUNTER)
CENTRE_STAFF = "ikiiki-katase"  # いきいきサポートセンター片瀬, where an elderly person of Katase is referred


async def refer_an_elderly_person_of_katase(services: RunningServices, given_name: str) -> tuple[str, str]:
    """The Katase counter's system submits an urgent consultation (consent for community support centres);
    returns the case id and the referral id once referral proposed it to the Katase centre."""
    async with await services.as_agency(*COUNTER) as intake:
        submitted = await intake.post(
            "/v1/consultations",
            json={
                "receiving_agency": COUNTER[0],
                "staff_id": "katase-007",
                "channel": "counter",
                "district": "katase",
                "domains": ["elderly"],
                "urgency": "urgent",
                "personal": {
                    "summary": "一人暮らし。最近、買い物に行けていない。",
                    "person": {"family_name": "片瀬", "given_name": given_name, "birth_date": "1941-05-05"},
                },
                "consent": {
                    "scope": {"agency_types": ["community-support-centre"]},
                    "purposes": ["support", "referral"],
                    "method": "verbal",
                },
            },
        )
    assert submitted.status_code == 201, submitted.text
    case_id = str(submitted.json()["case_id"])
    referral_id = ""

    async def proposed() -> bool:
        nonlocal referral_id
        async with await services.as_coordinator("referral") as referral:
            answer = (await referral.get("/v1/referrals", params={"case_id": case_id})).json()
        referral_id = next((r["referral_id"] for r in answer if r["to_agency"] == CENTRE_STAFF), "")
        return bool(referral_id)

    await eventually(proposed, within=30)
    return case_id, referral_id
