"""Meetings' store in memory, for the fast tests of the casebook: it keeps the promises of
services.meetings.store.MeetingStore, and tests/integration/test_meetings_store.py runs the same contract suite
against it and the real PostgreSQL store."""

from __future__ import annotations

import contextlib
import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from schemas.events import ConsentRecorded, MeetingCancelReason, MeetingKind, MeetingPurpose, MeetingRequested, PlanRole
from services.meetings.lifecycle import COMING, State
from services.meetings.store import Row
from tests.unit.fakes import RecordingFake


@dataclass
class FakeMeetingStore(RecordingFake):
    cases: dict[UUID, Row] = field(default_factory=dict)
    members: set[tuple[UUID, UUID]] = field(default_factory=set)
    consents: dict[UUID, Row] = field(default_factory=dict)
    meetings: dict[UUID, Row] = field(default_factory=dict)
    plans: dict[UUID, Row] = field(default_factory=dict)

    @contextlib.asynccontextmanager
    async def savepoint(self) -> AsyncIterator[None]:
        kept = copy.deepcopy((self.cases, self.members, self.consents, self.meetings, self.plans, self.recorded))
        try:
            yield
        except BaseException:
            self.cases, self.members, self.consents, self.meetings, self.plans, self.recorded = kept
            raise

    # --- the case and consents ---

    async def keep_case(self, case_id: UUID, person_id: UUID, district: str, urgency: str) -> None:
        self.cases.setdefault(
            case_id, {"case_id": case_id, "person_id": person_id, "district": district, "urgency": urgency}
        )

    async def add_member(self, case_id: UUID, person_id: UUID) -> bool:
        if (case_id, person_id) in self.members:
            return False
        self.members.add((case_id, person_id))
        return True

    async def case_facts(self, case_id: UUID) -> Row | None:
        case = self.cases.get(case_id)
        return None if case is None else {"district": case["district"], "urgency": case["urgency"]}

    async def keep_consent(self, event: ConsentRecorded) -> None:
        self.consents.setdefault(
            event.consent_id,
            {
                "consent_id": event.consent_id,
                "person_id": event.person_id,
                "scope": event.scope.model_dump_json(),
                "purposes": list(event.purposes),
                "valid_until": event.valid_until,
                "given_at": event.given_at,
                "withdrawn_at": None,
            },
        )

    async def withdraw_consent(self, consent_id: UUID, at: datetime) -> None:
        if consent_id in self.consents:
            self.consents[consent_id]["withdrawn_at"] = at

    async def consents_of_case(self, case_id: UUID) -> list[Row]:
        rows: list[Row] = []
        for person_id in sorted(p for c, p in self.members if c == case_id):
            own = [c for c in self.consents.values() if c["person_id"] == person_id]
            blank = {"scope": None, "purposes": None, "given_at": None, "valid_until": None, "withdrawn_at": None}
            rows += [{"person_id": person_id, **_consent(c)} for c in own] or [{"person_id": person_id, **blank}]
        return rows

    # --- meetings ---

    async def meeting(self, meeting_id: UUID, *, for_update: bool = False) -> Row | None:
        found = self.meetings.get(meeting_id)
        return None if found is None else dict(found)

    async def busy(self, case_id: UUID, agencies: tuple[str, ...], besides: UUID | None) -> list[Row]:
        return [
            {k: m[k] for k in ("case_id", "participants", "starts_at", "ends_at")}
            for m in self.meetings.values()
            if m["state"] in COMING
            and (m["case_id"] == case_id or set(m["participants"]) & set(agencies))
            and m["meeting_id"] != besides
        ]

    async def coming_of_person(self, person_id: UUID, kind: MeetingKind, now: datetime) -> list[Row]:
        cases = {c for c, p in self.members if p == person_id}
        return [
            dict(m)
            for m in self.meetings.values()
            if m["case_id"] in cases and m["kind"] == kind and m["state"] in COMING and m["starts_at"] > now
        ]

    async def add_meeting(self, requested: MeetingRequested, note: str | None) -> None:
        now = datetime.now(UTC)
        self.meetings[requested.meeting_id] = {
            "meeting_id": requested.meeting_id,
            "case_id": requested.case_id,
            "kind": str(requested.kind),
            "purpose": str(requested.purpose),
            "state": str(State.REQUESTED),
            "organizer": requested.organizer,
            "participants": list(requested.participants),
            "starts_at": requested.proposed_start,
            "ends_at": requested.proposed_end,
            "sequence": 0,
            "reason": str(requested.reason),
            "request_note": note,
            "cancel_reason": None,
            "cancel_note": None,
            "flag": None,
            "created_at": now,
            "updated_at": now,
        }

    async def save_times(
        self,
        meeting_id: UUID,
        *,
        state: State,
        times: tuple[datetime, datetime],
        participants: tuple[str, ...],
        sequence: int,
        now: datetime,
    ) -> None:
        self.meetings[meeting_id].update(
            state=str(state),
            starts_at=times[0],
            ends_at=times[1],
            participants=list(participants),
            sequence=sequence,
            updated_at=now,
        )

    async def save_cancelled(
        self, meeting_id: UUID, sequence: int, reason: MeetingCancelReason, note: str | None, now: datetime
    ) -> None:
        self.meetings[meeting_id].update(
            state=str(State.CANCELLED), sequence=sequence, cancel_reason=str(reason), cancel_note=note, updated_at=now
        )

    async def save_held(self, meeting_id: UUID, now: datetime, *, moved_to: tuple[datetime, datetime] | None) -> None:
        meeting = self.meetings[meeting_id]
        if moved_to is not None:
            meeting.update(starts_at=moved_to[0], ends_at=moved_to[1], flag="held at short notice")
        meeting.update(state=str(State.HELD), updated_at=now)

    async def change_kind(self, meeting_id: UUID, purpose: MeetingPurpose, flag: str) -> Row | None:
        if meeting_id not in self.meetings:
            return None
        self.meetings[meeting_id].update(kind=str(purpose.kind), purpose=str(purpose), flag=flag)
        return dict(self.meetings[meeting_id])

    async def save_sequence(self, meeting_id: UUID, sequence: int, now: datetime) -> None:
        self.meetings[meeting_id].update(sequence=sequence, updated_at=now)

    async def of_case_for(self, case_id: UUID, agency_id: str) -> list[Row]:
        found = [m for m in self.meetings.values() if m["case_id"] == case_id and _attends(m, agency_id)]
        return [dict(m) for m in sorted(found, key=lambda m: m["starts_at"])]

    async def agenda(self, agency_id: str, *, now: datetime, limit: int) -> list[Row]:
        mine = [m for m in self.meetings.values() if _attends(m, agency_id)]
        coming = sorted((m for m in mine if m["ends_at"] >= now), key=lambda m: m["starts_at"])
        over = sorted((m for m in mine if m["ends_at"] < now), key=lambda m: m["starts_at"], reverse=True)
        return [dict(m) for m in [*coming, *over][:limit]]

    async def counts(self, start: datetime, end: datetime) -> list[Row]:
        tally: dict[tuple[str, str, str], int] = {}
        for m in self.meetings.values():
            if start <= m["starts_at"] < end:
                key = (m["kind"], m["purpose"], m["state"])
                tally[key] = tally.get(key, 0) + 1
        return [{"kind": k, "purpose": p, "state": s, "n": n} for (k, p, s), n in tally.items()]

    # --- plans ---

    async def add_plan(
        self,
        plan_id: UUID,
        meeting: Row,
        *,
        goals: list[str],
        roles: tuple[PlanRole, ...],
        review: tuple[date, datetime],
        by: str,
    ) -> bool:
        if any(p["meeting_id"] == meeting["meeting_id"] for p in self.plans.values()):
            return False
        self.plans[plan_id] = {
            "plan_id": plan_id,
            "meeting_id": meeting["meeting_id"],
            "case_id": meeting["case_id"],
            "goals": json.dumps(goals, ensure_ascii=False),
            "roles": json.dumps([role.model_dump() for role in roles]),
            "review_on": review[0],
            "review_due_at": review[1],
            "confirmed_by": by,
            "confirmed_at": datetime.now(UTC),
            "review_fired_at": None,
            "review_meeting_id": None,
        }
        return True

    async def plan_of(self, meeting_id: UUID) -> dict[str, Any] | None:
        for plan in self.plans.values():
            if plan["meeting_id"] == meeting_id:
                shown = {k: plan[k] for k in ("plan_id", "review_on", "confirmed_by", "confirmed_at")}
                return {**shown, "goals": json.loads(plan["goals"]), "roles": json.loads(plan["roles"])}
        return None

    async def reviews_due(self, now: datetime, *, limit: int) -> list[Row]:
        due = sorted(
            (p for p in self.plans.values() if p["review_fired_at"] is None and p["review_due_at"] <= now),
            key=lambda p: p["review_due_at"],
        )
        fields = ("plan_id", "meeting_id", "case_id", "review_on", "review_due_at", "confirmed_by")
        return [
            {
                **{k: p[k] for k in fields},
                "participants": self.meetings[p["meeting_id"]]["participants"],
                "purpose": self.meetings[p["meeting_id"]]["purpose"],
            }
            for p in due[:limit]
        ]

    async def review_fired(self, plan_id: UUID, now: datetime, review_meeting_id: UUID | None) -> None:
        self.plans[plan_id].update(review_fired_at=now, review_meeting_id=review_meeting_id)


def _attends(meeting: Row, agency_id: str) -> bool:
    return bool(meeting["organizer"] == agency_id or agency_id in meeting["participants"])


def _consent(consent: Row) -> Row:
    return {k: consent[k] for k in ("scope", "purposes", "given_at", "valid_until", "withdrawn_at")}
