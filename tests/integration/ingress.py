"""What an agency system that speaks Kafka does: seal the personal part, sign the record, produce it."""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

from nacl.public import PublicKey, SealedBox

from backbone.agencies import signature
from schemas.events import SUBMISSION_TYPE

Record = tuple[bytes, bytes, list[tuple[str, bytes]]]


def sealed_submission(
    token: str,
    facts: dict[str, Any],
    personal: dict[str, Any] | None,
    public_key: str,
    *,
    submission_id: str | None = None,
) -> Record:
    agency, secret = token.split(".", 1)
    body = dict(facts)
    if personal is not None:
        box = SealedBox(PublicKey(base64.b64decode(public_key)))
        body["sealed_personal"] = base64.b64encode(box.encrypt(json.dumps(personal).encode())).decode()
    value = json.dumps(body).encode()
    ce_id = submission_id or str(uuid.uuid4())
    headers = {
        "ce_id": ce_id,
        "ce_type": SUBMISSION_TYPE,
        "ce_source": f"/agencies/{agency}",
        "ce_specversion": "1.0",
        "content-type": "application/json",
        "agency": agency,
        "signature": signature(secret, ce_id, value),
    }
    return agency.encode(), value, [(name, text.encode()) for name, text in headers.items()]
