"""The referral lifecycle, modelled on FHIR Task states: pure rules, no I/O.

    proposed ──accept──▶ accepted ──start──▶ in-progress ──complete──▶ completed
       │                    └──────────complete──────────────▶
       ├──decline (reason code required)──▶ declined   (the next candidate is proposed)
       └──cancel (reason code)──▶ cancelled   (also from accepted and in-progress)

A reason is a code (schemas.events.DeclineReason, ReferralCancelReason); the words an agency may add
beside it stay with the referral and are never published.

Repeating an action that already took effect (accepting an accepted referral) is not an error: the
answer is the same and nothing new happens. Any other move from a state that does not allow it is.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    PROPOSED = "proposed"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in-progress"
    COMPLETED = "completed"
    DECLINED = "declined"
    CANCELLED = "cancelled"


class Action(StrEnum):
    ACCEPT = "accept"
    START = "start"
    COMPLETE = "complete"
    DECLINE = "decline"
    CANCEL = "cancel"


TRANSITIONS: dict[Action, tuple[frozenset[State], State]] = {
    Action.ACCEPT: (frozenset({State.PROPOSED}), State.ACCEPTED),
    Action.START: (frozenset({State.ACCEPTED}), State.IN_PROGRESS),
    Action.COMPLETE: (frozenset({State.ACCEPTED, State.IN_PROGRESS}), State.COMPLETED),
    Action.DECLINE: (frozenset({State.PROPOSED}), State.DECLINED),
    Action.CANCEL: (frozenset({State.PROPOSED, State.ACCEPTED, State.IN_PROGRESS}), State.CANCELLED),
}
OPEN = frozenset({State.PROPOSED, State.ACCEPTED, State.IN_PROGRESS})

# Who may act: the referred agency answers and works the referral (or, for a community place without a system
# of its own, the coordinator agency that answers for it: the directory's `answered_by`); the referring side
# or a coordinator cancels.
BY_REFERRED_AGENCY = frozenset({Action.ACCEPT, Action.START, Action.COMPLETE, Action.DECLINE})


class InvalidTransitionError(Exception):
    def __init__(self, state: State, action: Action) -> None:
        super().__init__(
            f"a {state} referral cannot be {action}ed"
            if action != Action.START
            else f"a {state} referral cannot be started"
        )
        self.state = state
        self.action = action


class NotYourReferralError(Exception):
    """The agency may not act on this referral."""


def transition(state: State, action: Action) -> State | None:
    """The new state, or None when the action already took effect (a repeat). Raises InvalidTransitionError."""
    allowed_from, target = TRANSITIONS[action]
    if state is target:
        return None
    if state not in allowed_from:
        raise InvalidTransitionError(state, action)
    return target


def may_act(
    action: Action,
    *,
    agency: str,
    to_agency: str,
    from_agency: str,
    is_coordinator: bool,
    answers_for_it: bool = False,
) -> bool:
    if action in BY_REFERRED_AGENCY:
        return agency == to_agency or answers_for_it
    return agency == from_agency or is_coordinator
