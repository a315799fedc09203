"""intake, referral and notify running in the test process, against the real Kafka and PostgreSQL."""

from __future__ import annotations

import contextlib
import importlib
import uuid
from collections.abc import AsyncIterator
from datetime import time
from pathlib import Path

import httpx
from fastapi import FastAPI

from backbone import directory
from backbone.agencies import new_token
from backbone.service import ServiceRuntime
from backbone.settings import ServiceName
from devtools.local.stack import AGENCY_FACING, LocalStack
from schemas.vocabulary import AgencyType
from services.audit.settings import AuditSettings
from services.intake.keys import IntakeKeys
from services.notify.settings import NotifySettings
from tests.integration.kit import FAST_DELIVERY

COORDINATOR = directory.load().coordinators()[0]
SKELETON: tuple[ServiceName, ...] = ("intake", "referral", "meetings", "notify", "audit")


class RunningServices:
    def __init__(self, apps: dict[ServiceName, FastAPI]) -> None:
        self.apps = apps

    def client(self, service: ServiceName) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=self.apps[service]), base_url=f"http://{service}")

    async def token(self, agency_id: str, agency_type: AgencyType) -> str:
        """Issue the agency a token, registered in every service it calls, as `backbone agency-token` does."""
        token = new_token(agency_id)
        for service in AGENCY_FACING:
            runtime = self.runtime(service)
            assert runtime.credentials is not None
            async with runtime.pool.acquire() as conn:
                await runtime.credentials.register(conn, token, agency_type)
        return token

    async def as_agency(
        self, agency_id: str, agency_type: AgencyType, service: ServiceName = "intake"
    ) -> httpx.AsyncClient:
        """A client of the service that authenticates as the agency."""
        client = self.client(service)
        client.headers["Authorization"] = f"Bearer {await self.token(agency_id, agency_type)}"
        return client

    async def as_coordinator(self, service: ServiceName) -> httpx.AsyncClient:
        """A client of the service as the programme's coordinator (多機関協働), involved in every case."""
        return await self.as_agency(COORDINATOR.id, COORDINATOR.type, service)

    async def as_auditor(self) -> httpx.AsyncClient:
        """A client of audit as an auditor of its own (a new id each time, so earlier tokens stay valid)."""
        return await self.as_agency(f"kansa-{uuid.uuid4().hex[:6]}", AgencyType.AUDITOR, service="audit")

    async def involved(self, service: ServiceName, case_id: str, agency_id: str) -> bool:
        """Whether the service has seen the agency become involved in the case (its own projection)."""
        runtime = self.runtime(service)
        async with runtime.pool.acquire() as conn:
            return await runtime.involvement.is_involved(conn, uuid.UUID(case_id), agency_id)

    def runtime(self, service: ServiceName) -> ServiceRuntime:
        runtime: ServiceRuntime = self.apps[service].state.runtime
        return runtime


@contextlib.asynccontextmanager
async def running(stack: LocalStack, *, smtp_port: int, checkpoints: Path) -> AsyncIterator[RunningServices]:
    apps: dict[ServiceName, FastAPI] = {}
    async with contextlib.AsyncExitStack() as lifespans:
        for service in SKELETON:
            settings = stack.settings_for(service).model_copy(update={"delivery": FAST_DELIVERY})
            extra: dict[str, object] = {}
            if service == "intake":
                extra["keys"] = IntakeKeys.model_validate(stack.intake_keys())
            if service == "audit":
                extra["audit"] = AuditSettings(
                    signing_key=stack.audit_settings()["signing_key"],
                    checkpoint_file=checkpoints,
                    checkpoint_seconds=0.5,
                )
            if service == "notify":
                extra["notify"] = NotifySettings(
                    smtp_port=smtp_port,
                    retry_base_seconds=0.05,
                    poll_seconds=0.05,
                    send_timeout_seconds=2,
                    breaker_open_seconds=1,
                    # No quiet hours: the tests expect normal notifications at once, whatever the hour in Tokyo
                    # (the quiet hours themselves are tested in tests/unit/notify/test_notify_rules.py).
                    quiet_start=time(0),
                    quiet_end=time(0),
                )
            app: FastAPI = importlib.import_module(f"services.{service}.app").build_app(settings, **extra)
            await lifespans.enter_async_context(app.router.lifespan_context(app))
            apps[service] = app
        yield RunningServices(apps)
