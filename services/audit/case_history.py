"""A case's history as far as an agency is involved in it: the ledger's record of the case, read by the staff of
the agencies that work on it (the workbench's ケース page and a referral's history).

Which agencies may read it is the rule of `backbone/involvement.py`, applied to the case's own records in the
ledger (so audit needs no projection of its own: the ledger is the record the projections are made from).
What each of them sees follows the services' own need to know, so that this page shows nothing the agency
could not already read from the service that owns it:

- the case's consultations, consents, referrals (every referral of the case, as referral's
  `GET /v1/referrals?case_id=` answers an involved agency), its lead and coordination requests;
- the meetings the agency organises or takes part in, as meetings' API answers them, and the support plans
  of those meetings or that give the agency a role;
- the notifications addressed to the agency, and the disclosures of personal data to the agency.

Never shown: other agencies' notifications and disclosures, the auditors' own queries, dead-letter records.
Each function here decides over records already read: nothing is read or written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from pydantic import ValidationError

from backbone.involvement import involved_by
from schemas.events import EVENT_TYPES, TYPE_PREFIX

Entry = dict[str, Any]
"""A ledger row as `queries` decodes it: event_type, topic, occurred_at, data (the event's fields), …"""

ADDRESSED_TO = {
    "notify.notification.": "recipient_agency",
    "intake.personal-data.disclosed": "requesting_agency",
}
"""Records about one agency alone, by the field that names it: only that agency sees them."""

NEVER = ("audit.",)
"""Records of the auditors' own work: never an agency's to read."""


def _short(entry: Entry) -> str:
    return str(entry["event_type"]).removeprefix(TYPE_PREFIX)


def involved_agencies(entries: Iterable[Entry]) -> set[str]:
    """The agencies the case's records involve (backbone/involvement.py's rule, on the ledger's copies). A record
    this version cannot read involves nobody: the rule is applied only to what is understood."""
    agencies: set[str] = set()
    for entry in entries:
        model = EVENT_TYPES.get(str(entry["event_type"]))
        if model is None or not isinstance(entry.get("data"), dict):
            continue
        try:
            event = model.model_validate(entry["data"])
        except ValidationError:
            continue
        agencies.update(agency for agency, _ in involved_by(event))
    return agencies


def _meetings_of(agency_id: str, entries: Iterable[Entry]) -> set[str]:
    """The meetings the agency organises or takes part in, from the meetings' records of the case."""
    return {
        str(data["meeting_id"])
        for data in (entry.get("data") or {} for entry in entries)
        if "meeting_id" in data and (data.get("organizer") == agency_id or agency_id in data.get("participants", ()))
    }


def _has_role_in(agency_id: str, data: dict[str, Any]) -> bool:
    return any(isinstance(role, dict) and role.get("agency") == agency_id for role in data.get("roles", ()))


def as_far_as(agency_id: str, entries: Sequence[Entry]) -> list[Entry]:
    """The records of the case the agency may see (the rules in the module's docstring), in the ledger's order."""
    meetings = _meetings_of(agency_id, entries)
    seen = []
    for entry in entries:
        short, data = _short(entry), entry.get("data") or {}
        if short.startswith(NEVER) or str(entry.get("topic", "")).endswith(".dlq.v1"):
            continue
        field = next((name for prefix, name in ADDRESSED_TO.items() if short.startswith(prefix)), None)
        if field is not None:
            if data.get(field) == agency_id:
                seen.append(entry)
        elif "meeting_id" in data:
            if str(data["meeting_id"]) in meetings or _has_role_in(agency_id, data):
                seen.append(entry)
        else:
            seen.append(entry)
    return seen
