"""Meetings against the database: proposals, scheduling, changes, plans, and what consent allows.

Each function runs in the caller's transaction and writes its events through the outbox. Every change asks the
meeting's state machine first (lifecycle.py), and the law's rules (rules.py) decide what consent allows.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from backbone.calendar import business_morning
from backbone.consent import Consent
from backbone.db import Connection
from backbone.directory import Directory
from backbone.outbox import Outbox
from schemas.events import (
    ConsentPurpose,
    ConsentScope,
    MeetingCancelled,
    MeetingCancelReason,
    MeetingHeld,
    MeetingKind,
    MeetingPurpose,
    MeetingReason,
    MeetingRequested,
    MeetingRescheduled,
    MeetingScheduled,
    PlanRole,
    SupportPlanConfirmed,
    SupportPlanReviewOpened,
)
from schemas.vocabulary import District, Urgency
from services.meetings import rules, scheduling
from services.meetings.lifecycle import Change, NotHeldYetError, State, sequence_after, transition
from services.meetings.rules import AfterWithdrawal, CaseConsents
from services.meetings.store import MeetingStore, PostgresStore, Row


class MeetingRefusedError(Exception):
    """The meeting cannot be held as asked; the message says what to change."""


@dataclass(frozen=True)
class Casebook:
    directory: Directory
    outbox: Outbox

    def on(self, conn: Connection) -> PostgresStore:
        """The store in the transaction open on `conn`, recording events through this service's outbox."""
        return PostgresStore(conn, self.outbox)

    async def consents_in_force(self, store: MeetingStore, case_id: UUID, now: datetime) -> CaseConsents:
        """Each person's consents in force (backbone.consent decides which are), for every person the case
        concerns (one for most cases, a household's members for some)."""
        rows = await store.consents_of_case(case_id)
        persons: dict[UUID, list[Consent]] = {}
        for r in rows:
            own = persons.setdefault(r["person_id"], [])
            if r["scope"] is not None:
                scope = ConsentScope.model_validate_json(r["scope"])
                consent = Consent(
                    scope,
                    frozenset(map(ConsentPurpose, r["purposes"])),
                    r["given_at"],
                    r["valid_until"],
                    r["withdrawn_at"],
                )
                if consent.in_force(now):
                    own.append(consent)
        return CaseConsents(tuple(tuple(own) for own in persons.values()))

    async def busy(
        self, store: MeetingStore, case_id: UUID, agencies: tuple[str, ...], *, besides: UUID | None = None
    ) -> scheduling.Busy:
        """When the case, and each of the agencies, already has a meeting (besides this one)."""
        rows = await store.busy(case_id, agencies, besides)
        times = {
            agency: [(r["starts_at"], r["ends_at"]) for r in rows if agency in r["participants"]] for agency in agencies
        }
        return scheduling.Busy([(r["starts_at"], r["ends_at"]) for r in rows if r["case_id"] == case_id], times)

    async def propose(
        self,
        store: MeetingStore,
        *,
        case_id: UUID,
        organizer: str,
        participants: tuple[str, ...],
        reason: MeetingReason,
        now: datetime,
        kind: MeetingKind | None = None,
        purpose: MeetingPurpose | None = None,
        note: str = "",
        by_staff: str | None = None,
    ) -> MeetingRequested:
        """Propose a meeting at the first free time. The event says why as a code; `note`, the requesting
        agency's own words, is kept with the meeting and never published. Without a kind, the backbone
        proposes the lawful one; without a purpose, the meeting has its kind's purpose ①."""
        consents = await self.consents_in_force(store, case_id, now)
        if kind is None:
            kind, participants = rules.lawful_proposal(participants, consents, self.directory)
        purpose = purpose or MeetingPurpose.first_of(kind)
        if purpose.kind is not kind:
            raise MeetingRefusedError(
                f"purpose {purpose} belongs to a {purpose.kind} meeting, not a {kind} one; choose one of"
                f" {', '.join(p for p in MeetingPurpose if p.kind is kind)}"
            )
        found = rules.problems(kind, participants, consents, self.directory)
        if found:
            raise MeetingRefusedError("; ".join(found))
        try:
            start, end = scheduling.propose(now, await self.busy(store, case_id, participants))
        except scheduling.NoSlotError as error:
            raise MeetingRefusedError(str(error)) from None
        event = MeetingRequested(
            case_id=case_id,
            meeting_id=uuid4(),
            kind=kind,
            purpose=purpose,
            organizer=organizer,
            participants=participants,
            proposed_start=start,
            proposed_end=end,
            reason=reason,
            by_staff=by_staff,
        )
        await store.add_meeting(event, note or None)
        await store.record(event)
        return event

    async def schedule(
        self,
        store: MeetingStore,
        meeting: Row,
        *,
        starts_at: datetime,
        ends_at: datetime,
        participants: tuple[str, ...],
        now: datetime,
        by_staff: str | None = None,
    ) -> MeetingScheduled:
        """Fix the time (first scheduling, or a reschedule: SEQUENCE + 1), after checking law and clashes."""
        kind = MeetingKind(meeting["kind"])
        if starts_at <= now:
            raise MeetingRefusedError("the meeting must start in the future")
        if not scheduling.within_business_hours(starts_at, ends_at):
            raise MeetingRefusedError("the meeting must be on one business day between 8:30 and 17:15 (Tokyo)")
        found = rules.problems(
            kind, participants, await self.consents_in_force(store, meeting["case_id"], now), self.directory
        )
        if found:
            raise MeetingRefusedError("; ".join(found))
        busy = await self.busy(store, meeting["case_id"], participants, besides=meeting["meeting_id"])
        if not busy.free(starts_at, ends_at):
            raise MeetingRefusedError(
                "the case already has a meeting then, or an agency is fully booked; choose another time"
            )
        state = State(meeting["state"])
        first = state is State.REQUESTED
        sequence = sequence_after(state, Change.SCHEDULE, meeting["sequence"])
        await store.save_times(
            meeting["meeting_id"],
            state=transition(state, Change.SCHEDULE),
            times=(starts_at, ends_at),
            participants=participants,
            sequence=sequence,
            now=now,
        )
        model = MeetingScheduled if first else MeetingRescheduled
        event = model(
            **_facts(meeting, participants=participants),
            starts_at=starts_at,
            ends_at=ends_at,
            sequence=sequence,
            by_staff=by_staff,
        )
        await store.record(event)
        return event

    async def cancel(
        self,
        store: MeetingStore,
        meeting: Row,
        reason: MeetingCancelReason,
        now: datetime,
        *,
        note: str = "",
        by_staff: str | None = None,
    ) -> MeetingCancelled:
        """Call the meeting off. The event says why as a code; `note`, the agency's words, stays here."""
        state = State(meeting["state"])
        transition(state, Change.CANCEL)
        sequence = sequence_after(state, Change.CANCEL, meeting["sequence"])
        await store.save_cancelled(meeting["meeting_id"], sequence, reason, note or None, now)
        event = MeetingCancelled(
            **_facts(meeting),
            reason=reason,
            sequence=sequence,
            by_staff=by_staff,
        )
        await store.record(event)
        return event

    async def hold(
        self,
        store: MeetingStore,
        meeting: Row,
        now: datetime,
        *,
        at: datetime | None = None,
        by_staff: str | None = None,
    ) -> MeetingHeld:
        """Record that the meeting took place: as planned (once it has started), or at short notice at `at`
        (緊急開催: convened earlier than planned; its time is moved to when it was held and the law re-checked)."""
        transition(State(meeting["state"]), Change.HOLD)
        moved_to: tuple[datetime, datetime] | None = None
        if at is None:
            if meeting["starts_at"] > now:
                raise MeetingRefusedError(
                    "a meeting can be recorded as held only once it has started; "
                    "give `at` if it was convened earlier at short notice"
                )
            at = meeting["starts_at"]
        elif not now - timedelta(days=30) <= at <= now:
            raise MeetingRefusedError("`at` must be in the past 30 days")
        else:
            found = rules.problems(
                MeetingKind(meeting["kind"]),
                tuple(meeting["participants"]),
                await self.consents_in_force(store, meeting["case_id"], now),
                self.directory,
            )
            if found:
                raise MeetingRefusedError("; ".join(found))
            moved_to = (at, at + (meeting["ends_at"] - meeting["starts_at"]))
        await store.save_held(meeting["meeting_id"], now, moved_to=moved_to)
        event = MeetingHeld(
            **_facts(meeting),
            held_at=at,
            by_staff=by_staff,
        )
        await store.record(event)
        return event

    async def confirm_plan(
        self,
        store: MeetingStore,
        meeting: Row,
        *,
        goals: list[str],
        roles: tuple[PlanRole, ...],
        review_on: date,
        by: str,
        now: datetime,
        by_staff: str | None = None,
    ) -> SupportPlanConfirmed:
        purpose = MeetingPurpose(meeting["purpose"])
        try:
            transition(State(meeting["state"]), Change.CONFIRM_PLAN)
        except NotHeldYetError as error:
            raise MeetingRefusedError(str(error)) from None
        consents = await self.consents_in_force(store, meeting["case_id"], now)
        found = rules.plan_problems(purpose, tuple(meeting["participants"]), roles, consents, self.directory)
        if found:
            raise MeetingRefusedError("; ".join(found))
        if review_on <= now.date():
            raise MeetingRefusedError("the review date must be in the future")
        case = await store.case_facts(meeting["case_id"])
        plan_id = uuid4()
        review = (review_on, business_morning(review_on))
        if not await store.add_plan(plan_id, meeting, goals=goals, roles=roles, review=review, by=by):
            raise MeetingRefusedError("this meeting's plan is confirmed already")
        event = SupportPlanConfirmed(
            case_id=meeting["case_id"],
            plan_id=plan_id,
            meeting_id=meeting["meeting_id"],
            organizer=by,
            district=District(case["district"]) if case else District.FUJISAWA,
            urgency=Urgency(case["urgency"]) if case else Urgency.NORMAL,
            roles=roles,
            review_on=review_on,
            goal_count=len(goals),
            by_staff=by_staff,
            purpose=purpose,
        )
        await store.record(event)
        return event

    async def plan_review_opened(self, store: MeetingStore, plan: Row, now: datetime) -> SupportPlanReviewOpened:
        """The plan's review date came: propose a review meeting (reason plan-review) to the plan meeting's
        participants, of the kind the consent in force allows, and tell the organizer. `plan` is a row of plans
        with its meeting's participants and purpose."""
        participants = tuple(dict.fromkeys((plan["confirmed_by"], *plan["participants"])))
        consents = await self.consents_in_force(store, plan["case_id"], now)
        kind, lawful = rules.lawful_proposal(participants, consents, self.directory)
        try:
            async with store.savepoint():  # a savepoint: a refused proposal leaves nothing behind
                requested = await self.propose(
                    store,
                    case_id=plan["case_id"],
                    organizer=plan["confirmed_by"],
                    participants=lawful,
                    reason=MeetingReason.PLAN_REVIEW,
                    now=now,
                    kind=kind,
                    purpose=rules.review_purpose(MeetingPurpose(plan["purpose"]), kind),
                )
            review_meeting_id: UUID | None = requested.meeting_id
        except MeetingRefusedError:
            review_meeting_id = None  # no lawful meeting now: the organizer, told below, convenes one by hand
        await store.review_fired(plan["plan_id"], now, review_meeting_id)
        event = SupportPlanReviewOpened(
            case_id=plan["case_id"],
            plan_id=plan["plan_id"],
            meeting_id=plan["meeting_id"],
            organizer=plan["confirmed_by"],
            review_on=plan["review_on"],
            due_at=plan["review_due_at"],
            review_meeting_id=review_meeting_id,
        )
        await store.record(event)
        return event

    async def consent_withdrawn(self, store: MeetingStore, person_id: UUID, now: datetime) -> None:
        """RULE (rules.after_withdrawal): future consent-based meetings are converted or cancelled."""
        await self._consent_narrowed(store, person_id, now, "consent withdrawn", MeetingCancelReason.CONSENT_WITHDRAWN)

    async def member_joined(self, store: MeetingStore, person_id: UUID, now: datetime) -> None:
        """A household member joined the case: its future consent-based meetings now speak of them too, so their
        own consent must cover every participant (RULE rules.after_withdrawal, as if consent had narrowed)."""
        await self._consent_narrowed(
            store, person_id, now, "a household member joined the case without consent", MeetingCancelReason.OTHER
        )

    async def _consent_narrowed(
        self, store: MeetingStore, person_id: UUID, now: datetime, why: str, cancel_reason: MeetingCancelReason
    ) -> None:
        for meeting in await store.coming_of_person(person_id, MeetingKind.CONSENT_BASED, now):
            participants = tuple(meeting["participants"])
            remaining = await self.consents_in_force(store, meeting["case_id"], now)
            decision = rules.after_withdrawal(MeetingKind.CONSENT_BASED, participants, remaining, self.directory)
            if decision is AfterWithdrawal.CANCEL:
                await self.cancel(store, meeting, cancel_reason, now)
            elif decision is AfterWithdrawal.CONVERT:
                purpose = rules.converted_purpose(MeetingPurpose(meeting["purpose"]))
                await self._change_kind(store, meeting, purpose, f"converted to 支援会議: {why}", now)

    async def consent_recorded(self, store: MeetingStore, person_id: UUID, now: datetime) -> None:
        """RULE (rules.upgraded): a future 支援会議 that the new consent covers becomes a 重層的支援会議."""
        for meeting in await store.coming_of_person(person_id, MeetingKind.CONFIDENTIAL, now):
            consents = await self.consents_in_force(store, meeting["case_id"], now)
            purpose = rules.upgraded(MeetingKind.CONFIDENTIAL, tuple(meeting["participants"]), consents, self.directory)
            if purpose is not None:
                await self._change_kind(store, meeting, purpose, "moved to 重層的支援会議: consent recorded", now)

    async def _change_kind(
        self, store: MeetingStore, meeting: Row, purpose: MeetingPurpose, flag: str, now: datetime
    ) -> None:
        """The meeting becomes the other kind, with `purpose`; its participants are told (SEQUENCE + 1)."""
        changed = await store.change_kind(meeting["meeting_id"], purpose, flag)
        if changed is not None:
            await self._announce_change(store, changed, now)

    async def _announce_change(self, store: MeetingStore, meeting: Row, now: datetime) -> None:
        state = State(meeting["state"])
        transition(state, Change.CHANGE_KIND)
        sequence = sequence_after(state, Change.CHANGE_KIND, meeting["sequence"])
        await store.save_sequence(meeting["meeting_id"], sequence, now)
        await store.record(
            MeetingRescheduled(
                **_facts(meeting),
                starts_at=meeting["starts_at"],
                ends_at=meeting["ends_at"],
                sequence=sequence,
            ),
        )


def _facts(meeting: Row, *, participants: tuple[str, ...] | None = None) -> dict[str, Any]:
    """What every event of this meeting says about it, from its row."""
    return {
        "case_id": meeting["case_id"],
        "meeting_id": meeting["meeting_id"],
        "kind": MeetingKind(meeting["kind"]),
        "purpose": MeetingPurpose(meeting["purpose"]),
        "organizer": meeting["organizer"],
        "participants": participants if participants is not None else tuple(meeting["participants"]),
    }


def meeting_view(row: Row) -> dict[str, Any]:
    """A meeting as its organizer and participants read it: the reason codes with the agencies' own notes."""
    return {
        key: row[key]
        for key in (
            "meeting_id",
            "case_id",
            "kind",
            "purpose",
            "state",
            "organizer",
            "participants",
            "starts_at",
            "ends_at",
            "sequence",
            "reason",
            "request_note",
            "cancel_reason",
            "cancel_note",
            "flag",
        )
    } | {"requested_at": row["created_at"], "updated_at": row["updated_at"]}
