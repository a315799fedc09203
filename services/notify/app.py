"""notify's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from backbone.service import ServiceRuntime, create_app
from backbone.settings import ServiceSettings
from schemas.events import ReferralProposed
from schemas.topics import REFERRAL_EVENTS
from services.notify.api import router
from services.notify.deliveries import on_referral_proposed


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=Path(__file__).parent / "migrations")
    runtime.subscribe([REFERRAL_EVENTS.name], {ReferralProposed: on_referral_proposed(runtime.outbox)})
    return create_app(runtime, title="notify", summary="Tells on-call staff that a case needs them.", routers=[router])
