"""A confirmed support plan (支援プラン) becomes referrals: each role, to its agency, in the same closed loop;
and a plan that came back for review (見直し) stays open until the case's next plan is confirmed.

Each role is its own need (its id derived from the plan and the role, so a redelivered plan proposes
nothing twice). An outreach plan's outreach role also opens an outreach engagement (engagements.py). The
named agency is proposed directly; if it declines, routing takes over for the role's
support domain, as for any declined referral. A participation role given to a 参加支援 resource (a community
place) is routed as one: if the place declines, another place is proposed (routing.candidates).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from backbone.db import Connection
from backbone.delivery import Handler
from backbone.records import Received
from schemas.events import MeetingPurpose, SupportPlanConfirmed, SupportPlanReviewOpened
from services.referral.casework import Casework, Need
from services.referral.engagements import Engagements
from services.referral.routing import PARTICIPATION, SUPPORT_PLAN, Route


def on_plan_confirmed(casework: Casework, engagements: Engagements) -> Handler[SupportPlanConfirmed]:
    async def handle(conn: Connection, received: Received[SupportPlanConfirmed]) -> None:
        plan = received.event
        store = casework.on(conn)
        await store.open_case(plan.case_id)
        await store.review_by_next_plan(plan.case_id, plan.plan_id, received.envelope.time)
        for role in plan.roles:
            need = Need(
                case_id=plan.case_id,
                consultation_id=uuid.uuid5(plan.plan_id, f"{role.agency}/{role.responsibility}"),
                from_agency=plan.organizer,
                district=plan.district,
                domains=(role.domain,),
                urgency=plan.urgency,
            )
            rule = PARTICIPATION if casework.directory.is_place(role.agency) else SUPPORT_PLAN
            route = Route(role.agency, rule, f"support plan {plan.plan_id}: {role.responsibility}")
            await casework.propose_to(store, need, route, attempt=1, caused_by=received.envelope, now=datetime.now(UTC))
        if plan.purpose is MeetingPurpose.OUTREACH_PLAN:  # its outreach role becomes a tracked engagement too
            await engagements.from_plan(conn, plan, received.envelope)

    return handle


def on_plan_review_opened(casework: Casework) -> Handler[SupportPlanReviewOpened]:
    async def handle(conn: Connection, received: Received[SupportPlanReviewOpened]) -> None:
        review = received.event
        await casework.on(conn).open_review(
            review.plan_id,
            review.case_id,
            review_on=review.review_on,
            due_at=review.due_at,
            overdue_at=casework.policy.review_overdue_at(review.due_at),
        )

    return handle
