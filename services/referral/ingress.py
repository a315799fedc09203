"""The ingress topic referral.responses.v1: agency systems that speak Kafka act on their referrals.

The record is signed like an intake submission (backbone.agencies); its value is an ActionRequest. The
same rules as over HTTP: an agency acts only on referrals addressed to it (or, to cancel, that it made),
a repeat changes nothing, and a refused action becomes a ReferralActionRejected addressed to the
agency with the reason. A record whose sender cannot be verified goes to the dead-letter topic.
Every outcome is recorded in the transaction that decided it, and the agency, which may read no topic,
reads it with `GET /v1/actions/{ce_id}` (services.referral.outcomes); a retried record gets the first one.
Key the records by the referral id, so that the actions on one referral are applied in the order sent.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID

from aiokafka.structs import ConsumerRecord
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from backbone.agencies import Agency, Credentials
from backbone.db import Connection
from backbone.delivery import RecordHandler
from backbone.involvement import Involvement
from backbone.records import validation_problems
from schemas.events import (
    REFERRAL_ACTION_TYPE,
    DeclineReason,
    ReferralActionRejected,
    ReferralCancelReason,
    ReferralOutcome,
    RejectionReason,
)
from services.referral import reading
from services.referral.casework import Casework
from services.referral.decisions import Accept, Actor, Cancel, Command, Complete, Decline, Start
from services.referral.lifecycle import Action, InvalidTransitionError, NotYourReferralError
from services.referral.store import PostgresStore


class ActionRequest(BaseModel):
    """An agency's action on one referral (the value of a referral.responses.v1 record).

    Codes only: the topic keeps its records, and the audit ledger keeps them for good, so an agency's own
    words (a note beside the reason) go with the HTTP action instead, where referral keeps them.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    referral_id: UUID
    action: Action
    reason: DeclineReason | None = Field(default=None, description="Required to decline")
    outcome: ReferralOutcome | None = None
    cancel_reason: ReferralCancelReason | None = Field(default=None, description="Required to cancel")

    def command(self, by: Actor) -> Command:
        """The command this request gives; a code left out is `other` (`resolved` for an outcome)."""
        match self.action:
            case Action.ACCEPT:
                return Accept(by)
            case Action.START:
                return Start(by)
            case Action.COMPLETE:
                return Complete(by, self.outcome or ReferralOutcome.RESOLVED)
            case Action.DECLINE:
                return Decline(by, self.reason or DeclineReason.OTHER)
            case Action.CANCEL:
                return Cancel(by, self.cancel_reason or ReferralCancelReason.OTHER)


ACTION_FIELDS = "the fields are " + ", ".join(ActionRequest.model_fields)

NO_WORDS_ON_THE_TOPIC = RejectionReason(
    field="body.note",
    message="words are not taken on the topic, which keeps them: send the reason code here, "
    "or decline or cancel over HTTP (POST /v1/referrals/{referral_id}/decline or /cancel) with a note",
)


def on_action(casework: Casework, credentials: Credentials, involvement: Involvement) -> RecordHandler:
    async def handle(conn: Connection, record: ConsumerRecord[bytes, bytes]) -> None:
        agency, action_id = await credentials.signed_sender(conn, record)
        store = casework.on(conn)
        if await store.answered(agency.id, action_id):
            return  # a retried record: the first outcome stands
        applied = await _apply(conn, casework, involvement, agency, record)
        if isinstance(applied, RejectionReason):
            await _refuse(store, agency, action_id, applied)
        else:
            await store.record_applied(agency.id, action_id, applied.referral_id, applied.action)

    return handle


def parse(value: bytes | None) -> ActionRequest | RejectionReason:  # noqa: PLR0911 - one return per refusal
    """The action a record's value asks for, or why it is refused. What is refused is published to the agency,
    so nothing the agency chose is repeated: not a value, not the name of a field the contract does not have."""
    try:
        body = json.loads(value or b"")
        if isinstance(body, dict) and "note" in body:
            return NO_WORDS_ON_THE_TOPIC
        request = ActionRequest.model_validate(body)
    except (json.JSONDecodeError, UnicodeDecodeError):
        return RejectionReason(field="body", message="is not UTF-8 JSON")
    except ValidationError as error:
        if error.errors()[0]["type"] == "extra_forbidden":
            return RejectionReason(field="body", message=f"has a field an action does not have: {ACTION_FIELDS}")
        field, message = validation_problems(error)[0]
        return RejectionReason(field=f"body.{field}", message=message)
    if request.action is Action.DECLINE and request.reason is None:
        return RejectionReason(field="body.reason", message="a decline needs a reason code")
    if request.action is Action.CANCEL and request.cancel_reason is None:
        return RejectionReason(field="body.cancel_reason", message="a cancellation needs a reason code")
    return request


NO_SUCH_REFERRAL = RejectionReason(
    field="body.referral_id", message="no such referral (none with this id, or not one of your agency's cases)"
)


async def _apply(
    conn: Connection,
    casework: Casework,
    involvement: Involvement,
    agency: Agency,
    record: ConsumerRecord[bytes, bytes],
) -> ActionRequest | RejectionReason:
    """The action as applied, or why it was refused. An agency not involved in the referral's case is told
    exactly what it would be told of a referral that does not exist (need to know)."""
    if dict(record.headers).get("ce_type") != REFERRAL_ACTION_TYPE.encode():
        return RejectionReason(field="ce_type", message=f"must be {REFERRAL_ACTION_TYPE}")
    request = parse(record.value)
    if isinstance(request, RejectionReason):
        return request
    case_id = await reading.case_of(conn, request.referral_id)
    if case_id is None or not await involvement.is_involved(conn, case_id, agency.id):
        return NO_SUCH_REFERRAL
    try:
        async with conn.transaction():
            found = await casework.act(
                casework.on(conn), request.referral_id, request.command(casework.actor(agency)), now=datetime.now(UTC)
            )
    except NotYourReferralError:
        return RejectionReason(field="body.referral_id", message=f"is not a referral {agency.id} may {request.action}")
    except InvalidTransitionError as error:
        return RejectionReason(field="body.action", message=str(error))
    return request if found else NO_SUCH_REFERRAL


async def _refuse(store: PostgresStore, agency: Agency, action_id: str, reason: RejectionReason) -> None:
    await store.record_refused(agency.id, action_id, json.dumps([reason.model_dump()]))
    await store.record(
        ReferralActionRejected(action_id=action_id, agency=agency.id, reasons=(reason,), rejected_at=datetime.now(UTC))
    )
