"""What an agency system that speaks Kafka does: seal the personal part, sign the record, produce it."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from nacl.public import PublicKey, SealedBox

from backbone.agencies import signature
from schemas.events import REFERRAL_ACTION_TYPE, SUBMISSION_TYPE

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


def sealed_submission(
    token: str,
    facts: dict[str, Any],
    personal: dict[str, Any] | None,
    public_key: str,
    *,
    submission_id: str | None = None,
) -> Record:
    agency = token.split(".", 1)[0]
    body = dict(facts)
    if personal is not None:
        box = SealedBox(PublicKey(base64.b64decode(public_key)))
        body["sealed_personal"] = base64.b64encode(box.encrypt(json.dumps(personal).encode())).decode()
    return signed(token, SUBMISSION_TYPE, agency, body, ce_id=submission_id)


def signed_action(token: str, body: dict[str, Any], *, action_id: str | None = None) -> Record:
    """An action on a referral for referral.responses.v1, keyed by the referral (its actions stay in order)."""
    return signed(token, REFERRAL_ACTION_TYPE, str(body["referral_id"]), body, ce_id=action_id)


def signed(token: str, ce_type: str, key: str, body: dict[str, Any], *, ce_id: str | None = None) -> Record:
    """A record signed with the agency's secret, as backbone.agencies verifies it."""
    agency, secret = token.split(".", 1)
    value = json.dumps(body).encode()
    ce_id = ce_id or str(uuid.uuid4())
    headers = {
        "ce_id": ce_id,
        "ce_type": ce_type,
        "ce_source": f"/agencies/{agency}",
        "ce_specversion": "1.0",
        "content-type": "application/json",
        "agency": agency,
        "signature": signature(secret, ce_id, value),
    }
    return key.encode(), value, [(name, text.encode()) for name, text in headers.items()]


def ce_id(record: Record) -> str:
    return dict(record[2])["ce_id"].decode()
