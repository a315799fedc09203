"""Plans come back (支援プランの見直し), on the real stack: a plan's review falls due on the business calendar, a
review meeting is proposed and the organizer told; a review never done puts the case on the at-risk list,
and the next plan confirmed closes it."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import httpx

from backbone.calendar import TOKYO, business_morning
from tests.integration.kafka_tools import eventually
from tests.integration.meeting_steps import (
    COORDINATOR,
    at_risk_reasons,
    confirm,
    consent_based_proposal,
    coordinator,
    held,
    role,
)
from tests.integration.services import RunningServices


def next_saturday() -> date:
    today = date.today()
    return today + timedelta(days=(5 - today.weekday()) % 7 or 7) + timedelta(days=28)


async def hold_and_plan(
    services: RunningServices, meetings: httpx.AsyncClient, meeting_id: Any, review_on: date
) -> None:
    await held(services, meetings, meeting_id)
    carer = role("ikiiki-kugenuma", "carer-support", "elderly")
    plan = await confirm(meetings, meeting_id, "介護負担を減らす", carer, review_on=str(review_on))
    assert plan.status_code == 201, plan.text


async def test_a_plan_comes_back_on_its_business_day_and_stays_at_risk_until_the_next_plan(
    services: RunningServices,
) -> None:
    case, proposal = await consent_based_proposal(services)
    review_on = next_saturday()
    async with await coordinator(services) as meetings:
        await hold_and_plan(services, meetings, proposal["meeting_id"], review_on)
    pool = services.runtime("meetings").pool
    plan = await pool.fetchrow("SELECT * FROM plans WHERE meeting_id = $1", proposal["meeting_id"])
    # A Saturday's review falls due when the offices open on the next business day.
    due = plan["review_due_at"]
    assert due == business_morning(review_on) and due.astimezone(TOKYO).weekday() < 5

    # The day comes (brought forward for the test): the review opens once.
    await pool.execute(
        "UPDATE plans SET review_due_at = now() - interval '1 minute' WHERE plan_id = $1", plan["plan_id"]
    )
    await eventually(
        lambda: pool.fetchval("SELECT review_fired_at IS NOT NULL FROM plans WHERE plan_id = $1", plan["plan_id"]),
        within=30,
    )
    fired = await pool.fetchrow("SELECT * FROM plans WHERE plan_id = $1", plan["plan_id"])
    review = await pool.fetchrow("SELECT * FROM meetings WHERE meeting_id = $1", fired["review_meeting_id"])
    assert (review["reason"], review["kind"], review["purpose"]) == (
        "plan-review",
        "consent-based",
        "plan-confirmation",
    )
    assert review["organizer"] == COORDINATOR[0] and review["state"] == "requested"
    assert set(review["participants"]) == set(proposal["participants"])

    # The organizer's on-call is told.
    notify = services.runtime("notify").pool
    await eventually(
        lambda: notify.fetchval(
            "SELECT count(*) = 1 FROM deliveries WHERE case_id = $1 AND category = 'support-plan-review-opened'"
            " AND recipient_agency = $2",
            uuid.UUID(case["case_id"]),
            COORDINATOR[0],
        ),
        within=30,
    )

    # Not reviewed in time: the case is at risk, with why.
    referral = services.runtime("referral").pool
    await eventually(
        lambda: referral.fetchval("SELECT 1 FROM plan_reviews WHERE plan_id = $1", plan["plan_id"]), within=30
    )
    assert await at_risk_reasons(services, case["case_id"]) == []  # due, not yet overdue
    await referral.execute(
        "UPDATE plan_reviews SET overdue_at = now() - interval '1 minute' WHERE plan_id = $1", plan["plan_id"]
    )
    assert await at_risk_reasons(services, case["case_id"]) == [f"support plan not reviewed: due on {review_on}"]

    # The review meeting is held and confirms the next plan: the review closes, the case is no longer at risk.
    async with await coordinator(services) as meetings:
        await hold_and_plan(services, meetings, review["meeting_id"], review_on + timedelta(days=90))

    async def reviewed() -> bool:
        return not await at_risk_reasons(services, case["case_id"])

    await eventually(reviewed, within=30)
