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
from tests.integration.kit import FAST_DELIVERY

SKELETON: tuple[ServiceName, ...] = ("intake", "referral", "notify")


class RunningServices:
    def __init__(self, apps: dict[ServiceName, FastAPI]) -> None:
        self.apps = apps

    def client(self, service: ServiceName) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.apps[service]), base_url=f"http://{service}")

    def runtime(self, service: ServiceName) -> ServiceRuntime:
        runtime: ServiceRuntime = self.apps[service].state.runtime
        return runtime


@contextlib.asynccontextmanager
async def running(stack: LocalStack) -> AsyncIterator[RunningServices]:
    apps: dict[ServiceName, FastAPI] = {}
    async with contextlib.AsyncExitStack() as lifespans:
        for service in SKELETON:
            settings = stack.settings_for(service).model_copy(update={"delivery": FAST_DELIVERY})
            app: FastAPI = importlib.import_module(f"services.{service}.app").build_app(settings)
            await lifespans.enter_async_context(app.router.lifespan_context(app))
            apps[service] = app
        yield RunningServices(apps)
