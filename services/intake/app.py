"""intake's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from backbone.agencies import Credentials
from backbone.http import install_body_guard
from backbone.service import ServiceRuntime, create_app
from backbone.settings import ServiceSettings
from schemas.events import SUBMISSION_TOPIC
from schemas.submission import SealedSubmission
from schemas.topics import MEETINGS_EVENTS, REFERRAL_EVENTS
from services.intake import outcomes
from services.intake.api import router
from services.intake.context import Intake
from services.intake.ingress import on_submission
from services.intake.keys import IntakeKeys, Limits

DESCRIPTION = """\
Agency systems submit consultations here (相談受付), record and withdraw consent (本人同意), and read a
person's data when consent covers them (個人情報の開示).

Every call is made as one agency: `Authorization: Bearer <agency id>.<secret>`. Personal data (the
person's identity and the summary) is encrypted at rest under a per-person key and never leaves intake
except through `GET /v1/persons/{person_id}`, which checks consent and records every request.
Errors are RFC 9457 problem JSON. Bodies are limited to 64 KiB.
"""


def _credentials(runtime: ServiceRuntime) -> Credentials:
    if runtime.credentials is None:
        raise ValueError("intake needs BACKBONE_CREDENTIALS_KEY: agencies authenticate with it")
    return runtime.credentials


def build_app(settings: ServiceSettings, keys: IntakeKeys | None = None, limits: Limits | None = None) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=Path(__file__).parent / "migrations")
    intake = Intake.from_keys(keys or IntakeKeys(), runtime.outbox)  # keys from BACKBONE_INTAKE__* by default
    # Referral and meetings events only for whom they involve in a case: the referred agency, the lead and
    # the meetings' participants may then read the person under consent (need to know).
    runtime.subscribe(
        [SUBMISSION_TOPIC.name, REFERRAL_EVENTS.name, MEETINGS_EVENTS.name],
        {},
        records={
            SUBMISSION_TOPIC.name: (SealedSubmission, on_submission(intake, _credentials(runtime), runtime.involvement))
        },
    )
    app = create_app(
        runtime,
        title="intake",
        summary="Consultations, consent and disclosure of personal data.",
        description=DESCRIPTION,
        routers=[router, outcomes.router],
    )
    app.state.intake = intake
    install_body_guard(app, (limits or Limits()).max_body_bytes)
    return app
