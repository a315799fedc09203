"""What an agency that writes an ingress topic reads back: the outcome of each of its records, by `ce_id`.

The ACLs let an agency write the ingress topics and read no topic at all, so the refusal events
(SubmissionRejected, ReferralActionRejected) never reach it on Kafka. Instead the owning service records
every outcome in its database, in the transaction that applies or refuses the record, and answers
`GET` by `ce_id` to the agency that signed the record. A record whose signature does not verify has no
sender to answer: it is dead-lettered and no outcome is recorded for it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel

from backbone.db import Connection
from backbone.http import problem
from schemas.events import RejectionReason


class Refused(BaseModel):
    """The record was refused; nothing was applied. Correct each field and send a new record (a new `ce_id`)."""

    outcome: Literal["rejected"] = "rejected"
    reasons: list[RejectionReason]
    rejected_at: datetime


async def refusal(conn: Connection, query: str, *, agency: str, record_id: str) -> dict[str, Any] | None:
    """A refused record's `reasons` and `rejected_at`, read by `query` ($1 the agency, $2 the ce_id) from the
    service's table of refusals; None when the agency has no refused record of that id."""
    row = await conn.fetchrow(query, agency, record_id)
    return None if row is None else {"reasons": json.loads(row["reasons"]), "rejected_at": row["rejected_at"]}


def not_received(what: str) -> JSONResponse:
    """The one answer for a `ce_id` that is unknown, not processed yet, or another agency's: it reveals nothing."""
    return problem(
        404,
        "Not received (yet)",
        f"No {what} with this ce_id from your agency has been processed. Records are processed within seconds: "
        "retry shortly. If it stays 404, check that the record was sent to the right topic with the ce_id, "
        "agency and signature headers, signed with your agency's current secret: a record whose signature "
        "does not verify is set aside for the operators and gets no outcome.",
        type_="urn:jp:fujisawa:welfare:problem:not-received",
    )
