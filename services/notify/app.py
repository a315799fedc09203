"""notify's composition root."""

from __future__ import annotations

import hashlib
from pathlib import Path

from fastapi import FastAPI

from backbone import directory
from backbone.service import ServiceRuntime, create_app
from backbone.settings import ServiceSettings
from schemas.events import (
    ConsentWithdrawn,
    MeetingCancelled,
    MeetingRescheduled,
    MeetingScheduled,
    ReferralAccepted,
    ReferralEscalated,
    ReferralProposed,
    SupportPlanConfirmed,
    SupportPlanReviewOpened,
)
from schemas.topics import INTAKE_EVENTS, MEETINGS_EVENTS, REFERRAL_EVENTS
from services.notify import acknowledgement, api, handlers
from services.notify.deliveries import Dispatcher, Notifier
from services.notify.metrics import NotificationMetrics
from services.notify.settings import NotifySettings

DESCRIPTION = """\
Tells on-call staff, in time, that a case needs them: by e-mail (SMTP) or signed webhook, in Japanese or
English, with ids and a link but never personal data. Each notification is delivered once per
recipient; unacknowledged ones climb the ladder (primary → secondary → supervisor → coordinator).
"""


def build_app(settings: ServiceSettings, notify: NotifySettings | None = None) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=Path(__file__).parent / "migrations")
    if settings.credentials_key is None:
        raise ValueError("notify needs BACKBONE_CREDENTIALS_KEY: it signs webhooks and acknowledgement links with it")
    key = hashlib.sha256(b"notify:" + settings.credentials_key.get_secret_value().encode()).digest()
    notifier = Notifier(notify or NotifySettings(), directory.load(), runtime.outbox, key)
    notifying = handlers.notifying(notifier)
    runtime.subscribe(
        [INTAKE_EVENTS.name, REFERRAL_EVENTS.name, MEETINGS_EVENTS.name],
        {
            ReferralProposed: notifying,
            ReferralEscalated: notifying,
            ReferralAccepted: handlers.on_referral_accepted(notifier),
            MeetingScheduled: notifying,
            MeetingRescheduled: notifying,
            MeetingCancelled: notifying,
            SupportPlanConfirmed: notifying,
            SupportPlanReviewOpened: notifying,
            ConsentWithdrawn: notifying,
        },
    )
    metrics = NotificationMetrics.on(runtime.metrics)  # once: a restarted lifespan reuses the same series
    runtime.run_in_background(
        "dispatcher", lambda pool: Dispatcher(pool, notifier, runtime.tracer, metrics=metrics).run()
    )
    app = create_app(
        runtime,
        title="notify",
        summary="Tells on-call staff that a case needs them.",
        description=DESCRIPTION,
        routers=[api.router, acknowledgement.router],
    )
    app.state.notifier = notifier
    return app
