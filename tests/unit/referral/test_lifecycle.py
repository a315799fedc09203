from __future__ import annotations

import pytest

from services.referral.lifecycle import Action, InvalidTransitionError, State, may_act, transition


def test_the_happy_path_and_harmless_repeats() -> None:
    assert transition(State.PROPOSED, Action.ACCEPT) is State.ACCEPTED
    assert transition(State.ACCEPTED, Action.ACCEPT) is None  # accepting twice: the same answer
    assert transition(State.ACCEPTED, Action.START) is State.IN_PROGRESS
    assert transition(State.IN_PROGRESS, Action.COMPLETE) is State.COMPLETED


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.DECLINED, Action.ACCEPT),
        (State.COMPLETED, Action.CANCEL),
        (State.ACCEPTED, Action.DECLINE),
        (State.PROPOSED, Action.START),
    ],
)
def test_impossible_moves_are_refused(state: State, action: Action) -> None:
    with pytest.raises(InvalidTransitionError):
        transition(state, action)


def test_only_the_referred_agency_answers_and_the_referring_side_or_a_coordinator_cancels() -> None:
    parties = {"to_agency": "ikiiki-endo", "from_agency": "chiku-fukushi-endo"}
    assert may_act(Action.ACCEPT, agency="ikiiki-endo", is_coordinator=False, **parties)
    assert not may_act(Action.ACCEPT, agency="chiku-fukushi-endo", is_coordinator=False, **parties)
    assert may_act(Action.CANCEL, agency="chiku-fukushi-endo", is_coordinator=False, **parties)
    assert may_act(Action.CANCEL, agency="backup-fujisawa", is_coordinator=True, **parties)
    assert not may_act(Action.CANCEL, agency="ikiiki-endo", is_coordinator=False, **parties)
