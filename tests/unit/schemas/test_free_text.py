"""No free text an agency writes travels on the bus (invariant 3).

A record stays on its topic for its retention and in the audit ledger for good, where nothing can be
erased. So every string field of everything written to a topic (the events, and the ingress records
agencies write) must be an id or a code: a pattern, an enum or a Literal, or a uuid or a time. The few
strings a service writes itself are listed below, each with why no agency's words can reach it. A new
free-text field fails here until it becomes a code, with the words kept in the owning service's
database, or is listed with its reason.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from schemas.events import EVENT_TYPES, ConsentScope, ReferralCancelReason, RejectionReason
from schemas.submission import SealedSubmission
from services.referral.ingress import ActionRequest, parse
from services.referral.lifecycle import Action

WRITTEN_BY_A_SERVICE = {
    "ConsultationReceived.subject_ref": "a keyed hash intake computes from the identity; never typed",
    "RejectionReason.field": "the path of the refused field in the contract (referral's never names an unknown one)",
    "RejectionReason.message": "the validator's or the service's message, which never repeats the input",
    "SubmissionRejected.submission_id": "the ce_id the agency gave its own record, echoed to that agency",
    "ReferralActionRejected.action_id": "the ce_id the agency gave its own record, echoed to that agency",
    "ReferralProposed.routing_rule": "the name of the routing rule that chose the agency",
    "ReferralProposed.reason": "routing's own sentence, made from the directory (services/referral/routing.py)",
    "NotificationDelivered.category": "notify's rule table (services/notify/rules.py)",
    "NotificationDelivered.recipient_role": "a roster role: primary, secondary, supervisor or coordinator",
    "NotificationDelivered.channel": "record, email or webhook",
    "NotificationFailed.category": "notify's rule table (services/notify/rules.py)",
    "NotificationFailed.recipient_role": "a roster role: primary, secondary, supervisor or coordinator",
    "NotificationFailed.channel": "record, email or webhook",
    "NotificationFailed.last_error": "the channel's answer (exception type, SMTP reply, HTTP status) to notify",
    "NotificationEscalated.from_role": "a roster role",
    "NotificationEscalated.to_role": "a roster role",
    "SealedSubmission.sealed_personal": "a sealed box only intake can open (the personal part, encrypted)",
}
"""Strings that are neither ids nor codes, and why an agency cannot put its words there."""

ON_THE_BUS: tuple[type[BaseModel], ...] = (*EVENT_TYPES.values(), SealedSubmission, ActionRequest)
"""Every model whose JSON is a record's value on a topic: the events, and the two ingress records."""

NOT_TEXT_FORMATS = {"uuid", "date-time", "date"}


def _declared_by(model: type[BaseModel], field: str) -> str:
    """The class that declares the field (an inherited field is named after the class it comes from)."""
    bases = [c for c in reversed(model.__mro__) if isinstance(c, type) and issubclass(c, BaseModel)]
    return next(c.__name__ for c in bases if field in c.model_fields)


def _is_free_text(node: dict[str, Any]) -> bool:
    """A JSON Schema node that admits a string that is neither an id, a code, nor a time."""
    if "$ref" in node or "enum" in node or "const" in node or "pattern" in node:
        return False
    if node.get("format") in NOT_TEXT_FORMATS:
        return False
    branches = [*node.get("anyOf", []), *node.get("oneOf", []), *node.get("allOf", []), *node.get("prefixItems", [])]
    if isinstance(node.get("items"), dict):
        branches.append(node["items"])
    return node.get("type") == "string" or any(_is_free_text(branch) for branch in branches)


def free_text_fields(model: type[BaseModel]) -> set[str]:
    """`Class.field` for each free-text field of the model and of the models inside it ($defs)."""
    schema = model.model_json_schema()
    found = {
        f"{_declared_by(model, name)}.{name}"
        for name, node in schema.get("properties", {}).items()
        if _is_free_text(node)
    }
    for definition, body in schema.get("$defs", {}).items():
        found |= {f"{definition}.{name}" for name, node in body.get("properties", {}).items() if _is_free_text(node)}
    return found


def test_nothing_on_the_bus_has_a_free_text_field_beyond_the_services_own() -> None:
    found = set().union(*(free_text_fields(model) for model in ON_THE_BUS))
    unexplained = found - WRITTEN_BY_A_SERVICE.keys()
    assert not unexplained, (
        f"free text on the bus: {sorted(unexplained)}. Publish a code (an enum) and keep any words in the owning "
        "service's database; or, if only a service writes it, list it in WRITTEN_BY_A_SERVICE with why"
    )
    stale = WRITTEN_BY_A_SERVICE.keys() - found
    assert not stale, f"listed but no longer free text (remove them from the list): {sorted(stale)}"


class _WithANote(BaseModel):
    reason: str
    note: str = ""


@pytest.mark.parametrize(
    ("model", "expected"),
    [
        (_WithANote, {"_WithANote.reason", "_WithANote.note"}),
        (EVENT_TYPES["jp.fujisawa.welfare.referral.referral.declined.v1"], set()),
        (EVENT_TYPES["jp.fujisawa.welfare.meetings.meeting.cancelled.v1"], set()),
    ],
)
def test_the_walk_finds_a_plain_string_and_passes_codes(model: type[BaseModel], expected: set[str]) -> None:
    assert free_text_fields(model) == expected


def test_agency_ids_are_ids_not_words() -> None:
    # A consent's agencies are written by the submitting agency and published with the consultation.
    assert ConsentScope(agencies=("ikiiki-katase",)).agencies == ("ikiiki-katase",)
    with pytest.raises(ValidationError, match="pattern"):
        ConsentScope(agencies=("山田 花子",))


@pytest.mark.parametrize(
    ("extra", "field"),
    [
        ({"note": "藤沢花子さんの件"}, "body.note"),  # words go over HTTP, where referral keeps them
        ({"藤沢花子": "x"}, "body"),  # a refusal never names a field the sender made up
        ({"action": "cancel"}, "body.cancel_reason"),  # a cancellation needs its code
    ],
)
def test_an_action_over_kafka_takes_codes_only_and_its_refusal_repeats_nothing(
    extra: dict[str, str], field: str
) -> None:
    body = {"referral_id": str(uuid.uuid4()), "action": "decline", "reason": "other"} | extra
    refused = parse(json.dumps(body).encode())
    assert isinstance(refused, RejectionReason) and refused.field == field
    assert "藤沢" not in refused.model_dump_json()


def test_an_action_over_kafka_with_its_codes_is_taken() -> None:
    referral_id = uuid.uuid4()
    body = {"referral_id": str(referral_id), "action": "cancel", "cancel_reason": "duplicate"}
    assert parse(json.dumps(body).encode()) == ActionRequest(
        referral_id=referral_id, action=Action.CANCEL, cancel_reason=ReferralCancelReason.DUPLICATE
    )
