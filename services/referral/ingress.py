"""The ingress topic referral.responses.v1: agency systems that speak Kafka act on their referrals.

The record is signed like an intake submission (backbone.agencies); its value is an ActionRequest. The
same rules as over HTTP: an agency acts only on referrals addressed to it (or, to cancel, that it made),
a repeat changes nothing, and a refused action becomes a ReferralActionRejected addressed to the
agency with the reason. A record whose sender cannot be verified goes to the dead-letter topic.
Key the records by the referral id, so that the actions on one referral are applied in the order sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backbone.agencies import Agency, Credentials
from backbone.db import Connection
from backbone.delivery import RecordHandler
from backbone.records import validation_problems
from schemas.events import REFERRAL_ACTION_TYPE, DeclineReason, ReferralActionRejected, RejectionReason
from services.referral.casework import Casework
from services.referral.lifecycle import Action, InvalidTransitionError, NotYourReferralError


class ActionRequest(BaseModel):
    """An agency's action on one referral (the value of a referral.responses.v1 record)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: UUID
    action: Action
    reason: DeclineReason | None = Field(default=None, description="Required to decline")
    note: str = Field(default="", max_length=200)
    outcome: Literal["resolved", "transferred", "ongoing-elsewhere", "ended-by-person", "other"] | None = None
    cancel_reason: str = Field(default="", max_length=200)


def on_action(casework: Casework, credentials: Credentials) -> RecordHandler:
    async def handle(conn: Connection, record: ConsumerRecord[bytes, bytes]) -> None:
        agency, action_id = await credentials.signed_sender(conn, record)
        if await conn.fetchval(
            "SELECT 1 FROM rejected_actions WHERE agency_id = $1 AND action_id = $2", agency.id, action_id
        ):
            return
        problem = await _apply(conn, casework, agency, record)
        if problem is not None:
            await _refuse(conn, casework, agency, action_id, problem)

    return handle


async def _apply(  # noqa: PLR0911 - one return per way an action can be refused
    conn: Connection, casework: Casework, agency: Agency, record: ConsumerRecord[bytes, bytes]
) -> RejectionReason | None:
    if dict(record.headers).get("ce_type") != REFERRAL_ACTION_TYPE.encode():
        return RejectionReason(field="ce_type", message=f"must be {REFERRAL_ACTION_TYPE}")
    try:
        request = ActionRequest.model_validate(json.loads(record.value or b""))
    except (json.JSONDecodeError, UnicodeDecodeError):
        return RejectionReason(field="body", message="is not UTF-8 JSON")
    except ValidationError as error:
        field, message = validation_problems(error)[0]
        return RejectionReason(field=f"body.{field}", message=message)
    if request.action is Action.DECLINE and request.reason is None:
        return RejectionReason(field="body.reason", message="a decline needs a reason")
    try:
        async with conn.transaction():
            found = await casework.act(
                conn,
                request.referral_id,
                request.action,
                agency,
                now=datetime.now(UTC),
                reason=request.reason,
                note=request.note,
                outcome=request.outcome,
                cancel_reason=request.cancel_reason,
            )
    except NotYourReferralError:
        return RejectionReason(field="body.referral_id", message=f"is not a referral {agency.id} may {request.action}")
    except InvalidTransitionError as error:
        return RejectionReason(field="body.action", message=str(error))
    if found is None:
        return RejectionReason(field="body.referral_id", message="no such referral")
    return None


async def _refuse(
    conn: Connection, casework: Casework, agency: Agency, action_id: str, reason: RejectionReason
) -> None:
    await conn.execute(
        "INSERT INTO rejected_actions (agency_id, action_id, reasons) VALUES ($1, $2, $3)",
        agency.id,
        action_id,
        json.dumps([reason.model_dump()]),
    )
    await casework.outbox.add(
        conn,
        ReferralActionRejected(action_id=action_id, agency=agency.id, reasons=(reason,), rejected_at=datetime.now(UTC)),
    )
