"""intake, referral and notify running in the test process, against the real Kafka and PostgreSQL."""

from __future__ import annotations

import contextlib
import importlib
from collections.abc import AsyncIterator

import httpx
from fastapi import FastAPI

from backbone.local.stack import LocalStack
from backbone.service import ServiceRuntime
from backbone.settings import ServiceName
from schemas.vocabulary import AgencyType
from services.intake import credentials
from services.intake.context import Intake
from services.intake.keys import IntakeKeys
from tests.integration.kit import FAST_DELIVERY

SKELETON: tuple[ServiceName, ...] = ("intake", "referral", "notify")


class RunningServices:
    def __init__(self, apps: dict[ServiceName, FastAPI]) -> None:
        self.apps = apps

    def client(self, service: ServiceName) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.apps[service]), base_url=f"http://{service}")

    async def token(self, agency_id: str, agency_type: AgencyType) -> str:
        """Issue the agency a token, as `backbone agency-token` would."""
        intake: Intake = self.apps["intake"].state.intake
        async with self.runtime("intake").pool.acquire() as conn:
            return await credentials.issue(conn, intake.vault, agency_id=agency_id, agency_type=agency_type)

    async def as_agency(self, agency_id: str, agency_type: AgencyType) -> httpx.AsyncClient:
        """A client of intake that authenticates as the agency."""
        client = self.client("intake")
        client.headers["Authorization"] = f"Bearer {await self.token(agency_id, agency_type)}"
        return client

    def runtime(self, service: ServiceName) -> ServiceRuntime:
        runtime: ServiceRuntime = self.apps[service].state.runtime
        return runtime


@contextlib.asynccontextmanager
async def running(stack: LocalStack) -> AsyncIterator[RunningServices]:
    apps: dict[ServiceName, FastAPI] = {}
    async with contextlib.AsyncExitStack() as lifespans:
        for service in SKELETON:
            settings = stack.settings_for(service).model_copy(update={"delivery": FAST_DELIVERY})
            extra = {"keys": IntakeKeys.model_validate(stack.intake_keys())} if service == "intake" else {}
            app: FastAPI = importlib.import_module(f"services.{service}.app").build_app(settings, **extra)
            await lifespans.enter_async_context(app.router.lifespan_context(app))
            apps[service] = app
        yield RunningServices(apps)
