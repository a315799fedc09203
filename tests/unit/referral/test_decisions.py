"""Referral's pure core: what each command and each deadline decides, with no store at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from schemas.events import (
    DeclineReason,
    ReferralAccepted,
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
from services.referral.decisions import (
    Accept,
    Actor,
    Answer,
    AssignLead,
    Cancel,
    Complete,
    Decision,
    Decline,
    Escalation,
    ProposeNext,
    Queue,
    Referral,
    SetTimer,
    Start,
    Timer,
    decide,
    decide_timer,
)
from services.referral.lifecycle import InvalidTransitionError, NotYourReferralError, State
from services.referral.policy import ReferralPolicy

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
REFERRED = Actor("ikiiki-zengyo", by_staff="s-1")
REFERRING = Actor("chiku-fukushi-zengyo")
COORDINATOR = Actor("backup-fujisawa-shakyo", coordinator=True)
STRANGER = Actor("csw-chogo")
FOR_A_PLACE = Actor("csw-zengyo", answers_for=frozenset({"ibasho-zengyo"}))


def referral(state: State = State.PROPOSED, *, to_agency: str = "ikiiki-zengyo") -> Referral:
    return Referral(
        referral_id=uuid.uuid4(),
        case_id=uuid.uuid4(),
        consultation_id=uuid.uuid4(),
        from_agency="chiku-fukushi-zengyo",
        to_agency=to_agency,
        state=state,
        attempt=1,
        district=District.ZENGYO,
        domains=(SupportDomain.ELDERLY,),
        urgency=Urgency.NORMAL,
        respond_by=NOW - timedelta(hours=1),
    )


def test_accepting_moves_the_referral_says_so_and_makes_the_agency_lead() -> None:
    r = referral()
    decision = decide(r, Accept(REFERRED), NOW)
    assert decision.change == Answer(State.ACCEPTED, at=NOW)
    (event,) = decision.events
    assert isinstance(event, ReferralAccepted)
    assert (event.agency, event.by_staff, event.on_behalf_of, event.at) == ("ikiiki-zengyo", "s-1", None, NOW)
    assert decision.then == (AssignLead(r.case_id, "ikiiki-zengyo", r.referral_id),)


def test_a_place_accepts_but_never_leads() -> None:
    assert decide(referral(), Accept(REFERRED), NOW, leads=False).then == ()


def test_declining_publishes_the_code_keeps_the_words_and_proposes_the_next() -> None:
    r = referral()
    decision = decide(r, Decline(REFERRED, DeclineReason.NO_CAPACITY, "定員超過のため"), NOW)
    assert decision.change == Answer(
        State.DECLINED, at=NOW, decline_reason=DeclineReason.NO_CAPACITY, note="定員超過のため"
    )
    event, v2 = decision.events  # both versions, for the deprecation window
    assert isinstance(event, ReferralDeclined) and event.reason is DeclineReason.NO_CAPACITY
    assert v2 == ReferralDeclinedV2.from_v1(event) and v2.agency == r.to_agency and v2.answered_by is None
    assert "定員超過" not in event.model_dump_json() + v2.model_dump_json()  # the words never travel
    assert decision.then == (ProposeNext(r, attempt=2),)


def test_starting_and_completing_with_an_outcome() -> None:
    started = decide(referral(State.ACCEPTED), Start(REFERRED), NOW)
    assert started.change == Answer(State.IN_PROGRESS, at=NOW) and isinstance(started.events[0], ReferralStarted)
    done = decide(referral(State.IN_PROGRESS), Complete(REFERRED, ReferralOutcome.TRANSFERRED), NOW)
    assert done.change == Answer(State.COMPLETED, at=NOW, outcome=ReferralOutcome.TRANSFERRED)
    (event,) = done.events
    assert isinstance(event, ReferralCompleted) and event.outcome is ReferralOutcome.TRANSFERRED


@pytest.mark.parametrize("canceller", [REFERRING, COORDINATOR])
def test_the_referring_agency_or_a_coordinator_cancels(canceller: Actor) -> None:
    decision = decide(referral(State.ACCEPTED), Cancel(canceller, ReferralCancelReason.DUPLICATE, "二重登録"), NOW)
    assert decision.change == Answer(
        State.CANCELLED, at=NOW, cancel_reason=ReferralCancelReason.DUPLICATE, note="二重登録"
    )
    (event,) = decision.events
    assert isinstance(event, ReferralCancelled) and event.agency == canceller.agency and event.on_behalf_of is None


def test_an_agency_answering_for_a_place_acts_on_its_behalf() -> None:
    (event,) = decide(referral(to_agency="ibasho-zengyo"), Accept(FOR_A_PLACE), NOW, leads=False).events
    assert isinstance(event, ReferralAccepted) and (event.agency, event.on_behalf_of) == ("csw-zengyo", "ibasho-zengyo")


def test_a_decline_for_a_place_says_in_v2_whose_referral_it_was_and_who_answered_for_it() -> None:
    v1, v2 = decide(referral(to_agency="ibasho-zengyo"), Decline(FOR_A_PLACE, DeclineReason.NO_CAPACITY), NOW).events
    assert isinstance(v1, ReferralDeclined) and (v1.agency, v1.on_behalf_of) == ("csw-zengyo", "ibasho-zengyo")
    assert isinstance(v2, ReferralDeclinedV2) and (v2.agency, v2.answered_by) == ("ibasho-zengyo", "csw-zengyo")


@pytest.mark.parametrize(
    ("actor", "command"),
    [
        (STRANGER, Accept),
        (REFERRING, Accept),  # the referring side answers nothing
        (COORDINATOR, Start),  # a coordinator cancels, but does not work the referral
        (REFERRED, Cancel),  # the referred agency declines instead
        (STRANGER, Cancel),
    ],
)
def test_who_may_not_act_is_refused(actor: Actor, command: type[Accept | Start | Cancel]) -> None:
    with pytest.raises(NotYourReferralError):
        decide(referral(), command(actor), NOW)


def test_a_repeat_decides_nothing_and_a_move_the_state_forbids_is_refused() -> None:
    assert decide(referral(State.ACCEPTED), Accept(REFERRED), NOW) == Decision()
    assert Decision().changes_nothing
    with pytest.raises(InvalidTransitionError, match="a completed referral cannot be accepted"):
        decide(referral(State.COMPLETED), Accept(REFERRED), NOW)
    with pytest.raises(InvalidTransitionError, match="cannot be started"):
        decide(referral(State.PROPOSED), Start(REFERRED), NOW)


def test_an_unanswered_referral_past_its_deadline_is_overdue_and_climbs_to_the_supervisor() -> None:
    r = referral()
    policy = ReferralPolicy()
    decision = decide_timer(r, Timer("overdue", r.respond_by), NOW, policy=policy, coordinator="backup-fujisawa-shakyo")
    assert decision.change == Escalation(level=1, overdue_at=NOW)
    overdue, escalated = decision.events
    assert isinstance(overdue, ReferralOverdue) and overdue.respond_by == r.respond_by
    assert isinstance(escalated, ReferralEscalated) and (escalated.level, escalated.role) == (1, "supervisor")
    assert decision.then == (SetTimer("coordinator", policy.coordinator_after(r.respond_by, r.urgency)),)


def test_still_unanswered_at_the_second_timer_it_climbs_to_the_coordinator_and_the_case_is_queued() -> None:
    r = referral()
    timer = Timer("coordinator", NOW)
    decision = decide_timer(r, timer, NOW, policy=ReferralPolicy(), coordinator="backup-fujisawa-shakyo")
    assert decision.change == Escalation(level=2)
    (escalated,) = decision.events
    assert isinstance(escalated, ReferralEscalated)
    assert (escalated.level, escalated.role, escalated.to_agency) == (2, "coordinator", "backup-fujisawa-shakyo")
    assert decision.then == (
        Queue(r.case_id, "referral to ikiiki-zengyo unanswered: escalated to backup-fujisawa-shakyo"),
    )


@pytest.mark.parametrize("state", [State.ACCEPTED, State.DECLINED, State.COMPLETED, State.CANCELLED])
def test_an_answered_referral_lets_its_timers_go(state: State) -> None:
    r = referral(state)
    for kind in ("overdue", "coordinator"):
        assert decide_timer(r, Timer(kind, NOW), NOW, policy=ReferralPolicy(), coordinator="x") == Decision()
