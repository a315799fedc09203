"""An outreach engagement's lifecycle, as a table: what each step leads to, and who works it."""

from __future__ import annotations

import pytest

from backbone import directory
from schemas.events import OutreachEnding
from schemas.vocabulary import District
from services.referral.outreach import (
    OutreachRefusedError,
    State,
    Step,
    after,
    may_hold,
    may_work,
    partner_of,
)

DIRECTORY = directory.load()
S, E = State, OutreachEnding


@pytest.mark.parametrize(
    ("state", "step", "ending", "then"),
    [
        (S.ATTEMPTING, Step.ATTEMPT, None, S.ATTEMPTING),  # months of attempts
        (S.ATTEMPTING, Step.CONTACT, None, S.IN_CONTACT),
        (S.IN_CONTACT, Step.ATTEMPT, None, S.IN_CONTACT),  # reached once, not every time
        (S.IN_CONTACT, Step.CONSENT, None, S.CONSENTED),
        (S.CONSENTED, Step.END, E.HANDED_OVER, S.ENDED),
        (S.ATTEMPTING, Step.END, E.MOVED_AWAY, S.ENDED),
        (S.IN_CONTACT, Step.END, E.NO_LONGER_NEEDED, S.ENDED),
    ],
)
def test_the_steps(state: State, step: Step, ending: OutreachEnding | None, then: State) -> None:
    assert after(state, step, ending) is then


@pytest.mark.parametrize(
    ("state", "step", "ending", "says"),
    [
        (S.ATTEMPTING, Step.CONSENT, None, "record the contact first"),
        (S.IN_CONTACT, Step.CONTACT, None, "contact was recorded already"),
        (S.CONSENTED, Step.CONSENT, None, "recorded already"),
        (S.IN_CONTACT, Step.END, E.HANDED_OVER, "needs the person's consent"),
        (S.ENDED, Step.ATTEMPT, None, "has ended"),
    ],
)
def test_a_step_out_of_order_says_what_to_do(
    state: State, step: Step, ending: OutreachEnding | None, says: str
) -> None:
    with pytest.raises(OutreachRefusedError, match=says):
        after(state, step, ending)


def test_coordinators_and_csws_hold_outreach_with_each_other() -> None:
    assert may_hold("backup-fujisawa-shakyo", DIRECTORY) and may_hold("csw-endo", DIRECTORY)
    assert not may_hold("ikiiki-endo", DIRECTORY) and not may_hold("engawa-endo", DIRECTORY)
    assert partner_of("backup-fujisawa", District.ENDO, DIRECTORY, coordinator="backup-fujisawa") == "csw-endo"
    assert partner_of("csw-endo", District.ENDO, DIRECTORY, coordinator="backup-fujisawa-shakyo") == (
        "backup-fujisawa-shakyo"
    )
    work = {"holder": "backup-fujisawa-shakyo", "partner": "csw-endo", "directory": DIRECTORY}
    assert may_work("csw-endo", **work) and may_work("backup-fujisawa", **work)  # a coordinator
    assert not may_work("csw-katase", **work) and not may_work("ikiiki-endo", **work)
