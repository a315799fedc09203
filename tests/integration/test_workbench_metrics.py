"""The workbench's `/metrics`, read as Prometheus reads it, after a real sign-in through Keycloak's login form:
requests by route template, a sign-in and a failed one, the open sessions; and nothing in it that names a
session, a token, a staff member, an agency or a referral."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from devtools.bench.workbench import signed_in_browser
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from tests.integration.kafka_tools import eventually
from tests.integration.services import RunningServices
from tests.integration.workbench_browser import CENTRE_STAFF, running_workbench


@pytest.fixture
async def workbench(services: RunningServices, stack: LocalStack) -> AsyncIterator[str]:
    async with running_workbench(services, stack) as url:
        yield url


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of the exposition, by name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(found: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return found.get((name, frozenset(labels.items())), 0.0)


async def test_metrics_count_requests_by_route_sign_ins_and_open_sessions_and_name_nobody(
    stack: LocalStack, workbench: str
) -> None:
    password = LocalSecrets.load_or_create(stack.paths.secrets).demo_staff_passwords[CENTRE_STAFF]
    unknown = uuid.uuid4()
    async with httpx.AsyncClient(base_url=workbench, timeout=30) as scraper:
        before = samples((await scraper.get("/metrics")).text)
        async with signed_in_browser(workbench, CENTRE_STAFF, password) as browser:
            assert (await browser.get("/inbox")).status_code == 200
            assert (await browser.get(f"/referrals/{unknown}")).status_code == 404
            session_cookie = browser.cookies["wb_session"]
        stale = await scraper.get("/auth/callback", params={"state": "stale", "code": "stale"})
        assert stale.status_code == 400

        exposition = await scraper.get("/metrics")
        assert exposition.status_code == 200
        assert exposition.headers["content-type"].startswith("text/plain")
        after = samples(exposition.text)

        def grew(name: str, **labels: str) -> float:
            return value(after, name, **labels) - value(before, name, **labels)

        assert grew("backbone_workbench_requests_total", route="/inbox", method="GET", status="200") == 1
        assert (
            grew("backbone_workbench_requests_total", route="/referrals/{referral_id}", method="GET", status="404") == 1
        )
        assert grew("backbone_workbench_request_seconds_count", route="/inbox", method="GET") == 1
        assert grew("backbone_workbench_sign_ins_total", outcome="signed-in") == 1
        assert grew("backbone_workbench_sign_ins_total", outcome="failed-stale-or-other-browser") == 1
        # The login button's post, the callback, and the scrapes are counted by their routes too.
        assert grew("backbone_workbench_requests_total", route="/auth/login", method="POST", status="303") == 1

        async def a_session_is_open() -> bool:
            found = samples((await scraper.get("/metrics")).text)
            return value(found, "backbone_workbench_sessions_active") >= 1

        await eventually(a_session_is_open, within=20)

    # Labels are route templates and outcomes: no id, cookie, user or agency.
    for needle in (str(unknown), session_cookie, CENTRE_STAFF):
        assert needle not in exposition.text, needle
