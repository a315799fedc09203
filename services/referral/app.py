"""referral's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from backbone import directory
from backbone.service import ServiceRuntime, create_app
from backbone.settings import ServiceSettings
from schemas.events import ConsultationReceived, SupportPlanConfirmed, SupportPlanReviewOpened
from schemas.topics import INTAKE_EVENTS, MEETINGS_EVENTS, REFERRAL_RESPONSES
from services.referral import outcomes, outreach_api
from services.referral.api import router
from services.referral.casework import Casework
from services.referral.engagements import Engagements
from services.referral.ingress import ActionRequest, on_action
from services.referral.plans import on_plan_confirmed, on_plan_review_opened
from services.referral.policy import ReferralPolicy
from services.referral.proposals import on_consultation_received
from services.referral.reading import OVERDUE_REFERRALS
from services.referral.timers import DeadlineTimers

DESCRIPTION = """\
Every consultation gets an agency that owns it (受け止め・つなぐ), every referral gets an answer, and no
case is left without an owner (たらい回しにしない).

Agencies see the referrals addressed to them (`GET /v1/inbox`) and accept, decline (with a reason: the
next agency is proposed at once), start and complete them. Unanswered referrals become overdue at their
deadline and climb to the agency's supervisor, then to the multi-agency coordinator.
`GET /v1/cases/at-risk` lists every open case without a lead agency that needs attention, and every case
whose support plan came back for review and was not reviewed in time, with why.
"""


def build_app(
    settings: ServiceSettings, policy: ReferralPolicy | None = None, directory_file: Path | None = None
) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=Path(__file__).parent / "migrations")
    casework = Casework(
        directory.load(directory_file or directory.DIRECTORY_FILE), policy or ReferralPolicy(), runtime.outbox
    )
    engagements = Engagements(casework.directory, casework.policy, runtime.outbox)
    if runtime.credentials is None:
        raise ValueError("referral needs BACKBONE_CREDENTIALS_KEY: agencies authenticate with it")
    runtime.subscribe(
        [INTAKE_EVENTS.name, MEETINGS_EVENTS.name, REFERRAL_RESPONSES.name],
        {
            ConsultationReceived: on_consultation_received(casework),
            SupportPlanConfirmed: on_plan_confirmed(casework, engagements),
            SupportPlanReviewOpened: on_plan_review_opened(casework),
        },
        records={
            REFERRAL_RESPONSES.name: (ActionRequest, on_action(casework, runtime.credentials, runtime.involvement))
        },
    )
    runtime.run_in_background(
        "deadline_timers", lambda pool: DeadlineTimers(pool, casework, tracer=runtime.tracer).run()
    )
    runtime.metrics.gauge_from_query(
        "backbone_referrals_overdue", "Referrals still unanswered past their deadline (overdue)", OVERDUE_REFERRALS
    )
    app = create_app(
        runtime,
        title="referral",
        summary="Routes every consultation to an agency (つなぐ) and closes the loop.",
        description=DESCRIPTION,
        routers=[router, outreach_api.router, outcomes.router],
    )
    app.state.casework = casework
    app.state.engagements = engagements
    return app
