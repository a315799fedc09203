"""The workbench's composition root: its session database, the identity provider, the services it calls."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from backbone import directory
from backbone.db import OUTAGES, create_pool, migrate
from backbone.http import NATIVE_TELEMETRY_OFF, health_router, install_server_spans, metrics_router
from backbone.telemetry import setup_tracing
from services.workbench import (
    agency_pages,
    audit_pages,
    auth,
    cases_pages,
    consultation_form,
    meetings_pages,
    notifications_pages,
    outreach_pages,
    pages,
)
from services.workbench.apis import StaffApis
from services.workbench.metrics import WorkbenchMetrics, install_request_metrics, keep_refreshed
from services.workbench.oidc import Provider
from services.workbench.sessions import Sessions, TokenSeal
from services.workbench.settings import WorkbenchSettings
from services.workbench.text import DATABASE_UNAVAILABLE, REFUSED
from services.workbench.web import NotYours, Workbench, language, page_environment, render

log = logging.getLogger(__name__)

HERE = Path(__file__).parent

# Refusals of a form or a fragment, said to the staff member in their words.
SAID: dict[int, tuple[str, str]] = {
    401: (
        "サインインしていないか、サインインの有効期限が切れました。もう一度サインインしてください。",
        "You are not signed in, or your session ended: sign in again.",
    ),
    403: (
        "このフォームは受け付けられませんでした（別のサイトから送られたか、古い画面から送られました）。"
        "画面を読み込み直してから、もう一度操作してください。",
        "This form was refused (sent from another site, or from an old page). Reload the page and try again.",
    ),
    413: ("入力が長すぎます。", "The form is too large."),
}


def build_app(settings: WorkbenchSettings) -> FastAPI:
    """The workbench; it opens its pool and HTTP client in the lifespan, nothing at import."""
    tracer = setup_tracing(settings.telemetry, "workbench")
    metrics = WorkbenchMetrics()  # once: a restarted lifespan keeps counting in the same series

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        pool = await create_pool(settings.database)
        refresher: asyncio.Task[None] | None = None
        try:
            applied = await migrate(pool, "workbench", HERE / "migrations")
            if applied:
                log.info("workbench: applied migrations %s", ", ".join(applied))
            sessions = Sessions(
                pool, hours=settings.workbench.session_hours, seal=TokenSeal.of(settings.workbench.session_key)
            )
            every = settings.telemetry.metrics_refresh_seconds
            refresher = asyncio.create_task(keep_refreshed(metrics, sessions, every=every))
            async with httpx.AsyncClient(timeout=10.0) as http:
                app.state.workbench = Workbench(
                    settings=settings,
                    sessions=sessions,
                    provider=Provider(settings.identity, settings.workbench, http),
                    apis=StaffApis(settings.workbench, http),
                    directory=directory.load(),
                    pages=page_environment(),
                )
                yield
        finally:
            if refresher is not None:
                refresher.cancel()
                await asyncio.gather(refresher, return_exceptions=True)
            await pool.close()

    app = FastAPI(
        title="Fujisawa backbone — workbench",
        summary="The agencies' staff see and answer their referrals in a browser (ワークベンチ).",
        version="1",
        lifespan=lifespan,
        telemetry=NATIVE_TELEMETRY_OFF,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_server_spans(app, tracer)
    install_request_metrics(app, metrics)

    async def readiness() -> dict[str, bool]:
        workbench: Workbench | None = getattr(app.state, "workbench", None)
        if workbench is None:
            return {"database": False, "identity_provider": False}
        return {
            "database": await _answers(workbench.sessions.reachable()),
            "identity_provider": await _answers(workbench.provider.endpoints()),
        }

    _install_error_pages(app)

    app.include_router(auth.router)
    app.include_router(pages.router)
    app.include_router(cases_pages.router)
    app.include_router(audit_pages.router)
    app.include_router(consultation_form.router)
    app.include_router(meetings_pages.router)
    app.include_router(outreach_pages.router)
    app.include_router(notifications_pages.router)
    app.include_router(agency_pages.router)
    app.include_router(health_router(readiness))
    app.include_router(metrics_router(metrics.render))
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    return app


def _install_error_pages(app: FastAPI) -> None:
    """Refusals, malformed addresses and a database outage, said on a page in the staff member's language."""

    @app.exception_handler(HTTPException)
    async def refused(request: Request, error: HTTPException) -> Response:
        workbench: Workbench = request.app.state.workbench
        said = SAID.get(error.status_code, (str(error.detail), str(error.detail)))
        log.info("refused %s %s: %s", request.method, request.url.path, error.detail)
        # Signed in with a role these pages are not for: say which are, with the header of the session.
        session = error.session if isinstance(error, NotYours) else None
        said = error.said if isinstance(error, NotYours) else said
        return render(
            request, workbench, "error.html", language(request), status=error.status_code, session=session, message=said
        )

    async def database_unavailable(request: Request, error: Exception) -> Response:
        # Its own database (the sessions) down or failing over: a page that says so, not a bare 500.
        log.warning("%s %s: %s, answered 503", request.method, request.url.path, type(error).__name__)
        workbench: Workbench = request.app.state.workbench
        lang = language(request)
        return render(request, workbench, "error.html", lang, status=503, message=DATABASE_UNAVAILABLE)

    for outage in OUTAGES:
        app.add_exception_handler(outage, database_unavailable)

    @app.exception_handler(RequestValidationError)
    async def malformed(request: Request, _: RequestValidationError) -> Response:
        # A malformed id in an address is nothing the staff member may see, as an unknown one is.
        workbench: Workbench = request.app.state.workbench
        return render(request, workbench, "error.html", language(request), status=404, message=REFUSED[404])


async def _answers(request: object) -> bool:
    try:
        await asyncio.wait_for(request, timeout=2.0)  # type: ignore[arg-type]
    except Exception:  # noqa: BLE001 - any failure means "not ready"
        return False
    return True
