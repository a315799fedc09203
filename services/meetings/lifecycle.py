"""A meeting's lifecycle, as an explicit state machine (pure: no I/O). The casebook asks it before every change.

    requested ──schedule──▶ scheduled ──reschedule──▶ scheduled
        │                      │
        ├──────────held────────┴──held──▶ held ──confirm plan (once)──▶ held, with its 支援プラン
        └──cancel──▶ cancelled ◀──cancel──┘

- *held* is recorded once the meeting has started, or at short notice (緊急開催) before its planned time;
- a change of kind (consent recorded or withdrawn: rules.upgraded, rules.after_withdrawal) keeps the state;
- a held or cancelled meeting is over: nothing more changes it but its plan, and a new one is requested instead.

Every change the participants' calendars must follow raises the iCalendar SEQUENCE: a reschedule, a cancellation
and a change of kind. The first scheduling keeps the SEQUENCE of the request.
"""

from __future__ import annotations

from enum import StrEnum


class State(StrEnum):
    REQUESTED = "requested"
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class Change(StrEnum):
    SCHEDULE = "schedule"
    CANCEL = "cancel"
    HOLD = "hold"
    CHANGE_KIND = "change kind"
    CONFIRM_PLAN = "confirm plan"


COMING = frozenset({State.REQUESTED, State.SCHEDULED})
OVER = frozenset({State.HELD, State.CANCELLED})

TRANSITIONS: dict[Change, tuple[frozenset[State], State | None]] = {
    Change.SCHEDULE: (COMING, State.SCHEDULED),
    Change.CANCEL: (COMING, State.CANCELLED),
    Change.HOLD: (COMING, State.HELD),
    Change.CHANGE_KIND: (COMING, None),  # None: the state stays
    Change.CONFIRM_PLAN: (frozenset({State.HELD}), None),
}


class MeetingOverError(Exception):
    """The meeting was held or cancelled: a new one is requested instead."""

    def __init__(self, state: State) -> None:
        super().__init__(f"It was {state}; request a new one.")
        self.state = state


class NotHeldYetError(Exception):
    """A plan is confirmed only for a meeting that took place."""

    def __init__(self) -> None:
        super().__init__("record the meeting as held before confirming its plan")


def transition(state: State, change: Change) -> State:
    """The state after `change`; raises MeetingOverError or NotHeldYetError where the state forbids it."""
    allowed_from, target = TRANSITIONS[change]
    if state not in allowed_from:
        if change is Change.CONFIRM_PLAN:
            raise NotHeldYetError
        raise MeetingOverError(state)
    return target or state


def sequence_after(state: State, change: Change, sequence: int) -> int:
    """The iCalendar SEQUENCE after `change`: raised for everything the calendars must follow, except the first
    scheduling of a requested meeting (its invitation is the first the calendars see as fixed)."""
    if change is Change.SCHEDULE and state is State.REQUESTED:
        return sequence
    if change in (Change.SCHEDULE, Change.CANCEL, Change.CHANGE_KIND):
        return sequence + 1
    return sequence
