"""A meeting's state machine: which change each state allows, and the iCalendar SEQUENCE after it."""

from __future__ import annotations

import pytest

from services.meetings.lifecycle import (
    COMING,
    OVER,
    Change,
    MeetingOverError,
    NotHeldYetError,
    State,
    sequence_after,
    transition,
)


@pytest.mark.parametrize(
    ("state", "change", "after"),
    [
        (State.REQUESTED, Change.SCHEDULE, State.SCHEDULED),
        (State.SCHEDULED, Change.SCHEDULE, State.SCHEDULED),  # a reschedule
        (State.REQUESTED, Change.CANCEL, State.CANCELLED),
        (State.SCHEDULED, Change.CANCEL, State.CANCELLED),
        (State.REQUESTED, Change.HOLD, State.HELD),  # convened at short notice before it was fixed
        (State.SCHEDULED, Change.HOLD, State.HELD),
        (State.REQUESTED, Change.CHANGE_KIND, State.REQUESTED),
        (State.SCHEDULED, Change.CHANGE_KIND, State.SCHEDULED),
        (State.HELD, Change.CONFIRM_PLAN, State.HELD),
    ],
)
def test_a_coming_meeting_changes_and_a_held_one_gets_its_plan(state: State, change: Change, after: State) -> None:
    assert transition(state, change) is after


@pytest.mark.parametrize("state", sorted(OVER))
@pytest.mark.parametrize("change", [Change.SCHEDULE, Change.CANCEL, Change.HOLD, Change.CHANGE_KIND])
def test_a_meeting_that_is_over_changes_no_more(state: State, change: Change) -> None:
    with pytest.raises(MeetingOverError, match=f"It was {state}; request a new one"):
        transition(state, change)


@pytest.mark.parametrize("state", [*sorted(COMING), State.CANCELLED])
def test_a_plan_waits_for_the_meeting_to_be_held(state: State) -> None:
    with pytest.raises(NotHeldYetError, match="record the meeting as held"):
        transition(state, Change.CONFIRM_PLAN)


@pytest.mark.parametrize(
    ("state", "change", "sequence"),
    [
        (State.REQUESTED, Change.SCHEDULE, 0),  # the first fixed time is the calendars' first
        (State.SCHEDULED, Change.SCHEDULE, 1),
        (State.REQUESTED, Change.CANCEL, 1),
        (State.SCHEDULED, Change.CANCEL, 1),
        (State.SCHEDULED, Change.CHANGE_KIND, 1),
        (State.SCHEDULED, Change.HOLD, 0),
        (State.HELD, Change.CONFIRM_PLAN, 0),
    ],
)
def test_the_sequence_rises_for_every_change_the_calendars_follow(state: State, change: Change, sequence: int) -> None:
    assert sequence_after(state, change, 0) == sequence
