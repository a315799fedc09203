"""meetings' composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from backbone import directory
from backbone.service import ServiceRuntime, create_app
from backbone.settings import ServiceSettings
from schemas.events import ConsentRecorded, ConsentWithdrawn, ConsultationReceived, CoordinationRequested
from schemas.topics import INTAKE_EVENTS, REFERRAL_EVENTS
from services.meetings import handlers
from services.meetings.api import router
from services.meetings.casebook import Casebook
from services.meetings.reviews import PlanReviews

DESCRIPTION = """\
Case meetings under their legal rules. A 重層的支援会議 (consent-based) needs the person's consent, for the
purpose `case-meeting`, covering every participant, and confirms the support plan (支援プラン), whose roles
become referrals. A 支援会議 (社会福祉法第106条の6) may be held without consent, among member agencies under
the confidentiality duty only. Each meeting carries its purpose, one of its kind's two: a 重層的支援会議
confirms a multi-agency plan (①) or decides a 参加支援 plan (②); a 支援会議 is a conference without consent
(①) or decides an outreach plan (②). A plan comes back on its review date: a review meeting is proposed and
its organizer told (`SupportPlanReviewOpened`). Invitations are iCalendar (RFC 5545).
"""


def build_app(settings: ServiceSettings) -> FastAPI:
    runtime = ServiceRuntime(settings, migrations=Path(__file__).parent / "migrations")
    book = Casebook(directory.load(), runtime.outbox)
    runtime.subscribe(
        [INTAKE_EVENTS.name, REFERRAL_EVENTS.name],
        {
            ConsultationReceived: handlers.on_consultation(book),
            ConsentRecorded: handlers.on_consent_recorded(book),
            ConsentWithdrawn: handlers.on_consent_withdrawn(book),
            CoordinationRequested: handlers.on_coordination_requested(book),
        },
    )
    runtime.run_in_background("plan_reviews", lambda pool: PlanReviews(pool, book).run())
    app = create_app(
        runtime,
        title="meetings",
        summary="重層的支援会議 and 支援会議, invitations, support plans.",
        description=DESCRIPTION,
        routers=[router],
    )
    app.state.casebook = book
    return app
