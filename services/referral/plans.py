"""A confirmed support plan (支援プラン) becomes referrals: each role, to its agency, in the same closed loop.

Each role is its own need (its id derived from the plan and the role, so a redelivered plan proposes
nothing twice). The named agency is proposed directly; if it declines, routing takes over for the role's
support domain, as for any declined referral.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from backbone.db import Connection
from backbone.delivery import Handler
from backbone.records import Received
from schemas.events import SupportPlanConfirmed
from services.referral.casework import Casework, Need
from services.referral.routing import Route


def on_plan_confirmed(casework: Casework) -> Handler[SupportPlanConfirmed]:
    async def handle(conn: Connection, received: Received[SupportPlanConfirmed]) -> None:
        plan = received.event
        await conn.execute("INSERT INTO cases (case_id) VALUES ($1) ON CONFLICT DO NOTHING", plan.case_id)
        for role in plan.roles:
            need = Need(
                case_id=plan.case_id,
                consultation_id=uuid.uuid5(plan.plan_id, f"{role.agency}/{role.responsibility}"),
                from_agency=plan.organizer,
                district=plan.district,
                domains=(role.domain,),
                urgency=plan.urgency,
            )
            route = Route(role.agency, "support-plan", f"support plan {plan.plan_id}: {role.responsibility}")
            await casework.propose_to(conn, need, route, attempt=1, caused_by=received.envelope, now=datetime.now(UTC))

    return handle
