"""One consent rule (本人同意) for every service that decides on consent: intake, when it discloses a person's data,
and meetings, when it decides whether a 重層的支援会議 may be held. Each keeps the consents it learned in its own
database; what makes one count is decided here, once.

A consent counts for an agency and a purpose when it is in force (given, not yet expired, not withdrawn), names
the purpose, and its scope covers the agency: by id, by type, or every agency of the programme.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from schemas.events import ConsentPurpose, ConsentScope
from schemas.vocabulary import AgencyType


@dataclass(frozen=True)
class Consent:
    scope: ConsentScope
    purposes: frozenset[ConsentPurpose]
    given_at: datetime | None = None
    """When the person gave it; None for a consent kept before the time was (counted as given then)."""
    valid_until: datetime | None = None
    withdrawn_at: datetime | None = None

    def in_force(self, now: datetime) -> bool:
        """Given by `now`, not expired and not withdrawn."""
        given = self.given_at is None or self.given_at <= now
        return given and self.withdrawn_at is None and (self.valid_until is None or now < self.valid_until)

    def covers(self, agency_id: str, agency_type: AgencyType) -> bool:
        """Whether the scope names the agency, its type, or every programme agency (in force or not)."""
        scope = self.scope
        return scope.all_programme_agencies or agency_id in scope.agencies or agency_type in scope.agency_types

    def allows(self, agency_id: str, agency_type: AgencyType, purpose: ConsentPurpose, now: datetime) -> bool:
        """Whether the consent lets the agency have the person's data for `purpose` at `now`."""
        return purpose in self.purposes and self.in_force(now) and self.covers(agency_id, agency_type)
