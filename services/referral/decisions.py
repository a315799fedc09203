"""Referral's pure core: `decide(referral, command, now)` and `decide_timer(referral, timer, now, …)` say what
changes and which events say so, and what must follow; they read nothing and write nothing. `casework.py` loads
the referral from the store, decides, and saves what was decided, in one transaction.

    command ──▶ decide(referral, command, now) ──▶ Decision(answer, events, then)
                     │ the state machine: lifecycle.transition
                     │ who may act:       lifecycle.may_act

`then` holds what the decision sets going beyond the referral itself (the case's lead, the next proposal, the
next timer, the coordination queue): each is decided against its own state when the handler carries it out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeAlias
from uuid import UUID

from schemas.events import (
    DeclineReason,
    Event,
    ReferralAccepted,
    ReferralAction,
    ReferralCancelled,
    ReferralCancelReason,
    ReferralCompleted,
    ReferralDeclined,
    ReferralDeclinedV2,
    ReferralEscalated,
    ReferralOutcome,
    ReferralOverdue,
    ReferralStarted,
)
from schemas.vocabulary import District, SupportDomain, Urgency
from services.referral.lifecycle import BY_REFERRED_AGENCY, Action, NotYourReferralError, State, may_act, transition
from services.referral.policy import ReferralPolicy

# --- what a decision is about -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Referral:
    """A referral as the decisions see it (the store's row, typed)."""

    referral_id: UUID
    case_id: UUID
    consultation_id: UUID
    from_agency: str
    to_agency: str
    state: State
    attempt: int
    district: District
    domains: tuple[SupportDomain, ...]
    urgency: Urgency
    respond_by: datetime
    person_id: UUID | None = None
    escalation_level: int = 0


@dataclass(frozen=True)
class Actor:
    """Who acts, as the directory knows them: their agency, whether it coordinates, and the community places it
    answers for; the staff member's opaque subject when a person acted through the workbench."""

    agency: str
    by_staff: str | None = None
    coordinator: bool = False
    answers_for: frozenset[str] = frozenset()


# --- the commands -------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accept:
    by: Actor


@dataclass(frozen=True)
class Start:
    by: Actor


@dataclass(frozen=True)
class Complete:
    by: Actor
    outcome: ReferralOutcome = ReferralOutcome.RESOLVED


@dataclass(frozen=True)
class Decline:
    by: Actor
    reason: DeclineReason = DeclineReason.OTHER
    note: str = ""
    """The agency's own words: kept with the referral, never published."""


@dataclass(frozen=True)
class Cancel:
    by: Actor
    reason: ReferralCancelReason = ReferralCancelReason.OTHER
    note: str = ""


Command: TypeAlias = Accept | Start | Complete | Decline | Cancel
ACTIONS: dict[type[Command], Action] = {
    Accept: Action.ACCEPT,
    Start: Action.START,
    Complete: Action.COMPLETE,
    Decline: Action.DECLINE,
    Cancel: Action.CANCEL,
}

# --- what follows a decision --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class AssignLead:
    """The accepting agency leads the case, unless another already does."""

    case_id: UUID
    agency: str
    referral_id: UUID


@dataclass(frozen=True)
class ProposeNext:
    """The next candidate not yet tried is proposed, caused by the decision's event."""

    referral: Referral
    attempt: int


@dataclass(frozen=True)
class SetTimer:
    kind: str
    due_at: datetime


@dataclass(frozen=True)
class Queue:
    """The case waits in the coordination queue for the reason given."""

    case_id: UUID
    reason: str


FollowUp: TypeAlias = AssignLead | ProposeNext | SetTimer | Queue


@dataclass(frozen=True)
class Answer:
    """The referral's new state and what the agency gave with it."""

    state: State
    at: datetime
    decline_reason: DeclineReason | None = None
    cancel_reason: ReferralCancelReason | None = None
    note: str | None = None
    outcome: ReferralOutcome | None = None


@dataclass(frozen=True)
class Escalation:
    level: int
    overdue_at: datetime | None = None


@dataclass(frozen=True)
class Decision:
    change: Answer | Escalation | None = None
    events: tuple[Event, ...] = ()
    then: tuple[FollowUp, ...] = field(default=())

    @property
    def changes_nothing(self) -> bool:
        return self.change is None and not self.events and not self.then


# --- deciding -----------------------------------------------------------------------------------------------------


def decide(referral: Referral, command: Command, now: datetime, *, leads: bool = True) -> Decision:
    """What an agency's command does to the referral. A repeat of what already took effect decides nothing.

    `leads`: whether the referred agency may lead the case (a community place takes part, never leads).
    Raises lifecycle.NotYourReferralError and lifecycle.InvalidTransitionError.
    """
    action = ACTIONS[type(command)]
    by = command.by
    if not may_act(
        action,
        agency=by.agency,
        to_agency=referral.to_agency,
        from_agency=referral.from_agency,
        is_coordinator=by.coordinator,
        answers_for_it=referral.to_agency in by.answers_for,
    ):
        raise NotYourReferralError
    state = transition(referral.state, action)
    if state is None:
        return Decision()
    on_behalf_of = referral.to_agency if by.agency != referral.to_agency and action in BY_REFERRED_AGENCY else None
    said = {
        "case_id": referral.case_id,
        "referral_id": referral.referral_id,
        "agency": by.agency,
        "at": now,
        "by_staff": by.by_staff,
        "on_behalf_of": on_behalf_of,
    }
    event: ReferralAction
    answer = Answer(state=state, at=now)
    then: tuple[FollowUp, ...] = ()
    match command:
        case Accept():
            event = ReferralAccepted(**said)
            if leads:
                then = (AssignLead(referral.case_id, referral.to_agency, referral.referral_id),)
        case Start():
            event = ReferralStarted(**said)
        case Complete(outcome=outcome):
            event = ReferralCompleted(**said, outcome=outcome)
            answer = Answer(state=state, at=now, outcome=outcome)
        case Decline(reason=reason, note=note):
            declined = ReferralDeclined(**said, reason=reason)
            answer = Answer(state=state, at=now, decline_reason=reason, note=note or None)
            # Both versions while readers move to v2 (the deprecation window); v1 goes in a later release.
            return Decision(
                answer,
                (declined, ReferralDeclinedV2.from_v1(declined)),
                (ProposeNext(referral, attempt=referral.attempt + 1),),
            )
        case Cancel(reason=reason, note=note):
            event = ReferralCancelled(**said, reason=reason)
            answer = Answer(state=state, at=now, cancel_reason=reason, note=note or None)
    return Decision(answer, (event,), then)


@dataclass(frozen=True)
class Timer:
    kind: str  # overdue | coordinator
    due_at: datetime


def decide_timer(
    referral: Referral, timer: Timer, now: datetime, *, policy: ReferralPolicy, coordinator: str
) -> Decision:
    """A deadline passed. An unanswered referral is overdue: its agency's supervisor is told (level 1), and a
    second timer is set; when that one passes too, the lead coordinator is (level 2) and the case is queued.
    An answered referral lets its timer go."""
    if referral.state is not State.PROPOSED:
        return Decision()
    ids = {"case_id": referral.case_id, "referral_id": referral.referral_id}
    if timer.kind == "overdue":
        return Decision(
            Escalation(level=1, overdue_at=now),
            (
                ReferralOverdue(**ids, to_agency=referral.to_agency, respond_by=referral.respond_by, detected_at=now),
                ReferralEscalated(**ids, level=1, to_agency=referral.to_agency, role="supervisor", escalated_at=now),
            ),
            (SetTimer("coordinator", policy.coordinator_after(timer.due_at, referral.urgency)),),
        )
    return Decision(
        Escalation(level=2),
        (ReferralEscalated(**ids, level=2, to_agency=coordinator, role="coordinator", escalated_at=now),),
        (Queue(referral.case_id, f"referral to {referral.to_agency} unanswered: escalated to {coordinator}"),),
    )
