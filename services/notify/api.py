"""notify's HTTP API: rosters, the notifications of a case or of the calling agency, and acknowledgement (by
API or signed request; the link in an e-mail is served by `services.notify.acknowledgement`). The routes hold no
SQL: acknowledging goes through the store (`services.notify.store.DeliveryStore`), the lists are read by the
store's page reads."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from uuid import UUID

from fastapi import APIRouter, Header, Query, Request
from pydantic import ValidationError

from backbone.callers import MANAGING_REFUSED, CallingAgency, ManagingAgency, involved, not_involved
from backbone.http import problem
from backbone.records import validation_problems
from backbone.service import Runtime
from schemas.events import NotificationAcknowledged
from services.notify import channels
from services.notify.deliveries import Notifier
from services.notify.rosters import Roster
from services.notify.store import DeliveryStore, notifications_of_case, notifications_to

router = APIRouter(prefix="/v1")


def _notifier(request: Request) -> Notifier:
    notifier: Notifier = request.app.state.notifier
    return notifier


@router.get(
    "/notifications",
    tags=["notifications"],
    summary="With case_id: the case's notifications so far (to the agencies involved in it). Without: those "
    "addressed to your agency, unacknowledged first, then newest first",
    responses={404: {"description": "Not found for your agency (the same answer whether or not the case exists)"}},
)
async def notifications(
    runtime: Runtime,
    agency: CallingAgency,
    case_id: UUID | None = None,
    state: Annotated[
        Literal["open", "acknowledged"] | None,
        Query(description="open: not acknowledged yet; acknowledged: acknowledged; absent: both"),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many, the first in the order above")] = 100,
) -> Any:
    if case_id is None:
        return await notifications_to(runtime.pool, agency.id, acknowledged=state, limit=limit)
    if not await involved(runtime, case_id, agency):
        return not_involved()
    return await notifications_of_case(runtime.pool, case_id, acknowledged=state, limit=limit)


@router.get("/rosters/me", tags=["rosters"], summary="Your agency's on-call roster (the default if none is registered)")
async def my_roster(request: Request, runtime: Runtime, agency: CallingAgency) -> Roster:
    notifier = _notifier(request)
    async with runtime.pool.acquire() as conn:
        return await notifier.roster(notifier.on(conn), agency.id)


@router.put(
    "/rosters/me",
    tags=["rosters"],
    summary="Register your agency's roster (validated: no gaps, no overlaps); staff need the supervisor or "
    "coordinator role",
    responses=MANAGING_REFUSED,
)
async def register_roster(request: Request, runtime: Runtime, agency: ManagingAgency) -> Any:
    try:
        roster = Roster.model_validate_json(await request.body())
    except ValidationError as error:
        return problem(
            422,
            "The roster is not valid",
            "Correct the problems listed in `errors` and send it again. Nothing was stored.",
            type_="urn:jp:fujisawa:welfare:problem:roster",
            errors=roster_problems(error),
        )
    notifier = _notifier(request)
    async with runtime.pool.acquire() as conn:
        await notifier.on(conn).register_roster(agency.id, roster.model_dump_json())
    return {
        "agency": agency.id,
        "webhook_secret": _notifier(request).webhook_secret(agency.id).hex(),
        "note": "Verify the X-Backbone-Signature of every webhook with this secret (see the README).",
    }


@router.delete(
    "/rosters/me",
    tags=["rosters"],
    summary="Withdraw your agency's roster; the directory's default (e-mail to its on-call address) applies again."
    " Staff need the supervisor or coordinator role",
    responses=MANAGING_REFUSED,
)
async def withdraw_roster(request: Request, runtime: Runtime, agency: ManagingAgency) -> Roster:
    notifier = _notifier(request)
    async with runtime.pool.acquire() as conn:
        store = notifier.on(conn)
        await store.withdraw_roster(agency.id)
        return await notifier.roster(store, agency.id)


@router.post(
    "/notifications/{notification_id}/acknowledge",
    tags=["notifications"],
    summary="Acknowledge, as the agency (bearer token; a staff member's token records them as by_staff)",
)
async def acknowledge(notification_id: UUID, request: Request, runtime: Runtime, agency: CallingAgency) -> Any:
    async with runtime.pool.acquire() as conn, conn.transaction():
        return await record_acknowledgement(
            _notifier(request).on(conn), notification_id, agency.id, "api", by_staff=agency.by_staff
        )


@router.post(
    "/notifications/{notification_id}/signed-acknowledgement",
    tags=["notifications"],
    summary="Acknowledge by a request signed like our webhooks (X-Backbone-Signature over t.body)",
)
async def acknowledge_signed(
    notification_id: UUID,
    request: Request,
    runtime: Runtime,
    signature: Annotated[str, Header(alias="X-Backbone-Signature")],
    agency: Annotated[str, Header(alias="X-Backbone-Agency")],
) -> Any:
    notifier = _notifier(request)
    if not channels.verify(notifier.webhook_secret(agency), await request.body(), signature):
        return problem(401, "Bad signature", "Sign `<t>.<body>` with your webhook secret; t must be within 5 minutes.")
    async with runtime.pool.acquire() as conn, conn.transaction():
        return await record_acknowledgement(notifier.on(conn), notification_id, agency, "webhook")


async def record_acknowledgement(
    store: DeliveryStore, notification_id: UUID, agency: str, via: str, *, by_staff: str | None = None
) -> Any:
    """Acknowledge the notification as `agency` (by API, signed request or the link's button), in the store's
    transaction; once is enough. Any other agency, and an unknown id, get the same 404."""
    addressed = await store.addressed_for_update(notification_id)
    if addressed is None or addressed.recipient_agency != agency:
        return problem(404, "No such notification for your agency", "Check the notification id in the message.")
    if addressed.acknowledged_at is None:
        now = datetime.now(UTC)
        await store.acknowledge(notification_id, now, via)
        await store.record(
            NotificationAcknowledged(
                case_id=addressed.case_id,
                notification_id=notification_id,
                recipient_agency=agency,
                acknowledged_at=now,
                via=via,
                by_staff=by_staff,
            ),
        )
    return {"notification_id": notification_id, "acknowledged": True}


def roster_problems(error: ValidationError) -> list[dict[str, str]]:
    """Each problem of a roster on its own: the roster's own checks (gaps, overlaps, unknown people) come as one
    joined message of the whole body, listed here one by one."""
    problems = []
    for field, message in validation_problems(error):
        if field == "" and message.startswith(WHOLE_ROSTER):
            problems += [{"field": "", "message": part} for part in message.removeprefix(WHOLE_ROSTER).split("; ")]
        else:
            problems.append({"field": field, "message": message})
    return problems


WHOLE_ROSTER = "Value error, "  # how pydantic words a ValueError raised by the model's own validator
