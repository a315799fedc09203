"""The workbench's Prometheus metrics (`GET /metrics`), in a registry of its own: the kit's metrics are about
consumers and outboxes, and the workbench has neither.

- requests and their latency by route, method and status;
- sign-ins by outcome, read from the answers of the provider's callback (`/auth/callback`);
- the sessions open now, counted in the workbench's database by a background loop, never at scrape time.

A label holds the route's template (`/referrals/{referral_id}`), never the address a browser asked for: no
referral, case or session id, no subject, agency or token reaches a label, and the number of series stays
fixed whatever the traffic.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

from backbone.loops import keep_running
from services.workbench.sessions import Sessions

# A page is a few calls to the services and a render: tens of milliseconds, seconds only when a service waits.
REQUEST_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 2.5, 5.0, 10.0)

SIGN_IN_CALLBACK = "/auth/callback"
# What the callback's answer says about a sign-in (services/workbench/auth.py): a redirect into the workbench
# with a new session, or its login page again with the reason.
SIGN_IN_OUTCOMES = {
    303: "signed-in",
    400: "failed-stale-or-other-browser",  # an unknown, used or expired state, or another browser's callback
    403: "failed-refused",  # the provider refused the code, or the account is neither an agency's staff nor an auditor
}
STATIC = "/static"
UNMATCHED = "unmatched"  # an address the workbench has no route for (its 404), kept as one series


class WorkbenchMetrics:
    """The metrics of one workbench process."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "backbone_workbench_requests_total",
            "Requests answered, by route template, method and status",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.request_seconds = Histogram(
            "backbone_workbench_request_seconds",
            "Time to answer a request, the services' answers and the page's rendering included, by route template",
            ["route", "method"],
            registry=self.registry,
            buckets=REQUEST_BUCKETS,
        )
        self.sign_ins = Counter(
            "backbone_workbench_sign_ins_total",
            "Sign-ins completed at the provider's callback, by outcome: signed-in, or failed (and why)",
            ["outcome"],
            registry=self.registry,
        )
        self.sessions_active = Gauge(
            "backbone_workbench_sessions_active",
            "Staff sessions open now (not signed out, not past their end)",
            registry=self.registry,
        )

    def answered(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route=route, method=method, status=str(status)).inc()
        self.request_seconds.labels(route=route, method=method).observe(seconds)
        if route == SIGN_IN_CALLBACK:
            self.sign_ins.labels(outcome=SIGN_IN_OUTCOMES.get(status, f"failed-{status}")).inc()

    async def refresh(self, sessions: Sessions) -> int:
        self.sessions_active.set(await sessions.open_count())
        return 0

    def render(self) -> bytes:
        """The Prometheus text exposition of every metric of this process."""
        return generate_latest(self.registry)


def route_of(request: Request) -> str:
    """The template of the route that answered (set by the router once it matched), not the address."""
    route = request.scope.get("route")
    if isinstance(route, APIRoute):
        return route.path
    return STATIC if request.url.path.startswith(STATIC + "/") else UNMATCHED


def install_request_metrics(app: FastAPI, metrics: WorkbenchMetrics) -> None:
    @app.middleware("http")
    async def measured(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        began = time.perf_counter()
        status = 500  # unless an answer comes back: an error no handler turned into a page
        try:
            response = await call_next(request)
            status = response.status_code
        finally:
            metrics.answered(route_of(request), request.method, status, time.perf_counter() - began)
        return response


async def keep_refreshed(metrics: WorkbenchMetrics, sessions: Sessions, *, every: float) -> None:
    """Count the open sessions every `every` seconds until cancelled, waiting out a database outage."""

    async def idle() -> None:
        await asyncio.sleep(every)

    await keep_running("workbench metrics refresh", lambda: metrics.refresh(sessions), idle=idle, backoff_max=every * 6)
