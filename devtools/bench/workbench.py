"""W1: the workbench's inbox page (受付箱) with 1,000 open referrals, as a signed-in staff member's browser asks
for it (its first page of 100, urgent first, with the count of all), and W2, the rows the open page asks for every
second (that page, and what arrived since it was opened), against W0: referral's own `GET /v1/inbox?limit=100`
answering the same page to the same staff member's token. W1 − W0 is the workbench's share (the session, the
JSON read back, the rows' time left, the page's rendering).

The referrals come the real way: consultations of elderly people of Katase, submitted over intake's HTTP API by
the Katase counter, routed by referral to いきいきサポートセンター片瀬. The centre's open referrals are topped up
to the count asked for (earlier runs, tests and the fault suite may have left some there), and the ones made here
are cancelled by the counter afterwards, so that the demo centre's inbox is left as it was found.

The staff member signs in as a browser would, without one: the workbench's sign-in button, Keycloak's real login
form (the local realm allows no password grant), and the workbench's callback, which opens the session. W0's
token comes from a second sign-in through the same form with the workbench's own client and PKCE.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from urllib.parse import parse_qs, quote, urlsplit

import httpx

from devtools.bench.measure import Figure, percentiles
from devtools.local.postgres import LocalSecrets
from devtools.local.realm import WORKBENCH_URL
from devtools.local.stack import LocalStack
from services.workbench.oidc import Provider, new_challenge
from services.workbench.pages import INBOX_PAGE

CENTRE = "ikiiki-katase"  # いきいきサポートセンター片瀬, and the local realm's demo staff member of it
COUNTER = "chiku-fukushi-katase"  # 地区福祉窓口（片瀬）, whose consultations of elderly people are routed there
TARGET_P95_MS = 200.0
CONCURRENCY = 4
WARM_UP = 10
SETTLE_TIMEOUT_SECONDS = 300.0
_LOGIN_FORM = re.compile(r'<form[^>]*id="kc-form-login"[^>]*action="([^"]+)"')
_ROW = 'data-referral="'


class SignInFailedError(RuntimeError):
    """The staff member could not be signed in through the identity provider's login form."""


async def _through_login_form(browser: httpx.AsyncClient, authorization_url: str, username: str, password: str) -> str:
    """Keycloak's login page, filled in and posted to its own action as a browser would; returns the address
    the provider sends the browser back to (the workbench's callback, with the code)."""
    page = await browser.get(authorization_url)
    # Keycloak marks its cookies Secure; a browser sends them to http://127.0.0.1 (a secure context), httpx not.
    for cookie in browser.cookies.jar:
        cookie.secure = False
    form = _LOGIN_FORM.search(page.text)
    if form is None:
        raise SignInFailedError(f"the provider showed no login form ({page.status_code}); is Keycloak up?")
    answer = await browser.post(html.unescape(form[1]), data={"username": username, "password": password})
    location = str(answer.headers.get("location", ""))
    if answer.status_code != 302 or "code=" not in location:
        raise SignInFailedError(f"{username} was not signed in ({answer.status_code}); check the demo password")
    return location


@contextlib.asynccontextmanager
async def signed_in_browser(workbench_url: str, username: str, password: str) -> AsyncIterator[httpx.AsyncClient]:
    """A client holding a workbench session of `username`, opened through the workbench's own sign-in."""
    async with httpx.AsyncClient(base_url=workbench_url, timeout=30) as browser:
        started = await browser.post("/auth/login", data={"next": "/inbox"})
        callback = await _through_login_form(browser, started.headers["location"], username, password)
        landed = await browser.get(callback)
        if landed.status_code != 303 or "wb_session" not in browser.cookies:
            raise SignInFailedError(f"the workbench refused the sign-in of {username} ({landed.status_code})")
        yield browser


async def staff_access_token(stack: LocalStack, username: str, password: str) -> str:
    """An access token of `username`, by the authorization code flow with PKCE of the workbench's client."""
    settings = stack.workbench_settings()
    async with httpx.AsyncClient(timeout=30) as http:
        provider = Provider(settings.identity, settings.workbench, http)
        challenge = new_challenge()
        callback = await _through_login_form(
            http, await provider.authorization_url(challenge, locale="ja"), username, password
        )
        tokens = await provider.finish(parse_qs(urlsplit(callback).query)["code"][0], challenge)
    return tokens.access_token


class InboxSeed:
    """Tops the centre's open referrals up to a count through intake, and cancels the ones it made."""

    def __init__(self, stack: LocalStack, tokens: dict[str, str]) -> None:
        self.intake = httpx.AsyncClient(base_url=stack.base_url("intake"), headers=_bearer(tokens[COUNTER]), timeout=30)
        self.referral = httpx.AsyncClient(
            base_url=stack.base_url("referral"), headers=_bearer(tokens[COUNTER]), timeout=30
        )
        self.centre_token = tokens[CENTRE]
        self.made: list[str] = []

    async def open_referrals(self) -> list[dict[str, str]]:
        answer = await self.referral.get("/v1/inbox", headers=_bearer(self.centre_token))
        answer.raise_for_status()
        inbox: list[dict[str, str]] = answer.json()
        return inbox

    async def top_up(self, count: int) -> int:
        """Submit consultations until the centre has `count` open referrals; returns how many it has."""
        missing = count - len(await self.open_referrals())
        cases: set[str] = set()

        async def submit() -> None:
            answer = await self.intake.post(
                "/v1/consultations",
                json={
                    "receiving_agency": COUNTER,
                    "staff_id": "bench",
                    "channel": "counter",
                    "district": "katase",
                    "domains": ["elderly"],
                },
            )
            if answer.status_code != 201:
                raise RuntimeError(f"intake answered {answer.status_code}: {answer.text[:300]}")
            cases.add(answer.json()["case_id"])

        await _in_parallel(max(0, missing), 16, submit)
        last_progress, seen = time.monotonic(), 0
        while True:
            inbox = await self.open_referrals()
            self.made = [r["referral_id"] for r in inbox if r["case_id"] in cases]
            if len(self.made) == len(cases):
                return len(inbox)
            if len(self.made) > seen:
                last_progress, seen = time.monotonic(), len(self.made)
            if time.monotonic() - last_progress > SETTLE_TIMEOUT_SECONDS:
                raise RuntimeError(
                    f"{len(cases) - len(self.made)} of {len(cases)} consultations were not referred to {CENTRE}"
                    f" within {SETTLE_TIMEOUT_SECONDS:.0f}s; see the services' logs in $BACKBONE_HOME/logs"
                )
            await asyncio.sleep(0.5)

    async def cancel_made(self) -> None:
        """The counter withdraws the referrals made here: the inbox is left as it was found."""
        made = iter(self.made)

        async def cancel() -> None:
            await self.referral.post(f"/v1/referrals/{next(made)}/cancel", json={"reason": "no-longer-needed"})

        await _in_parallel(len(self.made), 16, cancel)

    async def close(self) -> None:
        await self.intake.aclose()
        await self.referral.aclose()


async def _in_parallel(count: int, workers: int, one: Callable[[], Awaitable[None]]) -> None:
    remaining = iter(range(count))

    async def worker() -> None:
        for _ in remaining:
            await one()

    await asyncio.gather(*(worker() for _ in range(workers)))


async def latencies(client: httpx.AsyncClient, path: str, requests: int) -> dict[str, float]:
    """`requests` GETs of `path` from CONCURRENCY clients (closed loop), after a few to warm up; in ms."""
    for _ in range(WARM_UP):
        await client.get(path)
    samples: list[float] = []
    errors = 0

    async def one() -> None:
        nonlocal errors
        began = time.perf_counter()
        try:
            errors += (await client.get(path)).status_code != 200
        except httpx.HTTPError:
            errors += 1
        samples.append((time.perf_counter() - began) * 1000)

    await _in_parallel(requests, CONCURRENCY, one)
    return percentiles(samples) | {"requests": float(requests), "errors": float(errors)}


async def inbox_page(
    stack: LocalStack, tokens: dict[str, str], *, open_referrals: int, requests: int, repetitions: int
) -> list[Figure]:
    """W0 and W1, alternating (W0, W1, W0, W1, …) so that neither gains from running first."""
    password = LocalSecrets.load_or_create(stack.paths.secrets).demo_staff_passwords[CENTRE]
    seed = InboxSeed(stack, tokens)
    try:
        shown = await seed.top_up(open_referrals)
        token = await staff_access_token(stack, CENTRE, password)
        async with (
            signed_in_browser(WORKBENCH_URL, CENTRE, password) as browser,
            httpx.AsyncClient(base_url=stack.base_url("referral"), headers=_bearer(token), timeout=30) as referral,
        ):
            first_page = (await browser.get("/inbox")).text
            rows = first_page.count(_ROW)
            counted = shown <= INBOX_PAGE or f"全{shown:,}件" in first_page  # the count of all, beside the pages
            if rows != min(shown, INBOX_PAGE) or not counted:
                raise RuntimeError(f"the inbox page showed {rows} rows of {shown} open referrals, or not their count")
            since = quote(datetime.now(UTC).isoformat())
            service = Figure(f"W0 referral GET /v1/inbox?limit={INBOX_PAGE}, {shown:,} open (p95)", "ms")
            page = Figure(f"W1 workbench GET /inbox (first page), {shown:,} open referrals, signed in (p95)", "ms")
            live = Figure(f"W2 workbench GET /inbox/rows (the page's live poll), {shown:,} open (p95)", "ms")
            measured = (
                (service, referral, f"/v1/inbox?limit={INBOX_PAGE}"),
                (page, browser, "/inbox"),
                (live, browser, f"/inbox/rows?page=1&since={since}"),
            )
            for _ in range(repetitions):
                for figure, client, path in measured:
                    run = await latencies(client, path, requests)
                    figure.runs.append(round(run["p95"], 1))
                    for key in ("p50", "p99", "errors"):
                        figure.extra.setdefault(key, []).append(round(run[key], 1))
    finally:
        await seed.cancel_made()
        await seed.close()
    for figure in (page, live):
        figure.extra |= {
            "ratio_to_W0": round(figure.median / service.median, 2) if service.median else None,
            "p95_within_200ms": figure.median <= TARGET_P95_MS,
            "concurrency": CONCURRENCY,
            "requests_per_run": requests,
        }
    return [service, page, live]


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
