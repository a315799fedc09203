"""intake's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from backbone.service import ServiceRuntime, create_app
from backbone.settings import ServiceSettings
from services.intake.api import router


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=Path(__file__).parent / "migrations")
    return create_app(
        runtime,
        title="intake",
        summary="Agency systems submit consultations here (相談受付).",
        routers=[router],
    )
