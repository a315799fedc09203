"""PostgreSQL's text cannot hold a NUL character. Every service's edge refuses one in the path or the query
with a clear 422 before a route runs, so no parameter can carry it into a query and end in a 500."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from opentelemetry.sdk.trace import TracerProvider

from backbone.http import install_problem_handlers, install_server_spans


def service() -> tuple[FastAPI, list[str]]:
    app = FastAPI()
    install_problem_handlers(app)
    install_server_spans(app, TracerProvider().get_tracer("test"))
    reached: list[str] = []

    @app.get("/v1/agencies/{agency_id}")
    async def agency(agency_id: str, name: str = "") -> dict[str, str]:
        reached.append(agency_id + name)
        return {"agency": agency_id}

    return app, reached


async def ask(app: FastAPI, url: str) -> httpx.Response:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://edge") as client:
        return await client.get(url)


async def test_a_nul_in_the_query_is_refused_before_the_route_runs() -> None:
    app, reached = service()
    answer = await ask(app, "/v1/agencies/katase?name=a%00b")
    assert answer.status_code == 422
    assert answer.headers["content-type"] == "application/problem+json"
    assert "NUL" in answer.json()["detail"] and "Remove it" in answer.json()["detail"]
    assert reached == []


async def test_a_nul_in_the_path_is_refused() -> None:
    app, reached = service()
    answer = await ask(app, "/v1/agencies/kata%00se")
    assert answer.status_code == 422
    assert reached == []


async def test_an_ordinary_request_passes() -> None:
    app, reached = service()
    answer = await ask(app, "/v1/agencies/katase?name=%E8%97%A4%E6%B2%A2")
    assert answer.status_code == 200
    assert reached == ["katase藤沢"]
