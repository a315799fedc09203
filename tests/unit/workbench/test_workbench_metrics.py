"""The workbench's request metrics on a small app of the same shape: a label is the route's template (never the
address with its id), an address without a route is one series, a failure no handler answered counts as 500,
and the provider's callback counts sign-ins by what it answered."""

from __future__ import annotations

import uuid

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import Response

from backbone.http import metrics_router
from services.workbench.metrics import UNMATCHED, WorkbenchMetrics, install_request_metrics


def small_app(metrics: WorkbenchMetrics) -> FastAPI:
    app = FastAPI()
    install_request_metrics(app, metrics)

    @app.get("/referrals/{referral_id}")
    async def referral(referral_id: uuid.UUID) -> dict[str, str]:
        return {"referral_id": str(referral_id)}

    @app.get("/auth/callback")
    async def callback(answer: int) -> Response:
        return Response(status_code=answer)

    @app.get("/broken")
    async def broken() -> None:
        raise RuntimeError("a bug")

    app.include_router(metrics_router(metrics.render))
    return app


async def test_labels_are_route_templates_and_sign_ins_are_counted_by_the_callbacks_answer() -> None:
    metrics = WorkbenchMetrics()
    transport = httpx.ASGITransport(app=small_app(metrics), raise_app_exceptions=False)
    referral = uuid.uuid4()
    async with httpx.AsyncClient(transport=transport, base_url="http://workbench") as client:
        assert (await client.get(f"/referrals/{referral}")).status_code == 200
        assert (await client.get("/nowhere/at/all")).status_code == 404
        for answer in (303, 303, 400, 403):
            await client.get("/auth/callback", params={"answer": answer})
        assert (await client.get("/broken")).status_code == 500
        text = (await client.get("/metrics")).text

    assert 'route="/referrals/{referral_id}",status="200"' in text
    assert str(referral) not in text and "/nowhere" not in text
    assert f'route="{UNMATCHED}",status="404"' in text
    assert 'route="/broken",status="500"' in text
    assert 'backbone_workbench_sign_ins_total{outcome="signed-in"} 2.0' in text
    assert 'backbone_workbench_sign_ins_total{outcome="failed-stale-or-other-browser"} 1.0' in text
    assert 'backbone_workbench_sign_ins_total{outcome="failed-refused"} 1.0' in text


@pytest.mark.parametrize("route", ["/inbox", "/referrals/{referral_id}"])
def test_the_latency_of_a_route_lands_in_its_histogram(route: str) -> None:
    metrics = WorkbenchMetrics()
    metrics.answered(route, "GET", 200, 0.15)
    histogram = metrics.request_seconds.labels(route=route, method="GET")
    buckets = {float(s.labels["le"]): s.value for s in next(iter(histogram.collect())).samples if "le" in s.labels}
    assert buckets[0.1] == 0 and buckets[0.2] == 1
