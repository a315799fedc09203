"""referral's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from backbone.service import ServiceRuntime, create_app
from backbone.settings import ServiceSettings
from schemas.events import ConsultationReceived
from schemas.topics import INTAKE_EVENTS
from services.referral.api import router
from services.referral.proposals import on_consultation_received


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=Path(__file__).parent / "migrations")
    runtime.subscribe([INTAKE_EVENTS.name], {ConsultationReceived: on_consultation_received(runtime.outbox)})
    return create_app(
        runtime,
        title="referral",
        summary="Routes every consultation to an agency (つなぐ).",
        routers=[router],
    )
