"""The fault suite's verdict: any loss, duplicate effect, disorder, phantom or unaccounted poison fails it."""

from __future__ import annotations

import uuid

import pytest

from devtools.faults.checker import Verdict, referrals_expected
from devtools.faults.run import Outcome, Plan, _line, markdown
from devtools.faults.workload import Submitted, Workload


def clean() -> Verdict:
    verdict = Verdict(accepted=10, refused=1, poison_injected=2, poison_dead_lettered=2)
    verdict.missing.update({"ledger: consultation": 0, "referral: referral": 0})
    verdict.duplicate_effects.update({"referral: referral": 0})
    return verdict


def test_a_clean_run_passes_and_transport_duplicates_alone_do_not_fail_it() -> None:
    verdict = clean()
    verdict.transport_duplicates["e-mail"] = 3
    assert verdict.passed and verdict.lost == 0 and verdict.duplicates == 0


@pytest.mark.parametrize(
    "spoil",
    [
        lambda v: v.missing.__setitem__("notify: delivered", 1),
        lambda v: v.duplicate_effects.__setitem__("referral: referral", 1),
        lambda v: setattr(v, "order_violations", 1),
        lambda v: setattr(v, "phantoms", 1),
        lambda v: setattr(v, "unanswered", 1),
        lambda v: setattr(v, "poison_dead_lettered", 1),
        lambda v: setattr(v, "unexpected_dead_letters", 1),
    ],
    ids=["lost", "duplicate", "order", "phantom", "unanswered", "poison-missing", "poison-extra"],
)
def test_each_kind_of_fault_fails_the_verdict(spoil: object) -> None:
    verdict = clean()
    spoil(verdict)  # type: ignore[operator]
    assert not verdict.passed


def test_the_workload_sorts_submissions_by_their_definite_answer() -> None:
    workload = Workload("http://127.0.0.1:1", "agency.secret", run_id="r", seed=1)
    workload.submitted = [Submitted("a", True, 201), Submitted("b", False, 422), Submitted("c", True, None)]
    assert [s.key for s in workload.accepted()] == ["a"]
    assert [s.key for s in workload.refused()] == ["b"]
    assert [s.key for s in workload.unanswered()] == ["c"]
    assert workload.agency == "agency"


def test_the_table_names_every_scenario_and_its_result() -> None:
    outcome = Outcome("kill-referral", "…", 30, 10, 1, 0, 0, 2, 0, 0, "2/2 (+0 other)", 4.2, True, {})
    table = markdown([outcome], Plan(10, 5, 1, 60))
    assert "| kill-referral | 30 | 10 | 1 | 0 | 0 | 2 | 0 | 0 | 2/2 (+0 other) | 4.2 | pass |" in table


def test_a_declined_first_referral_expects_the_next_agencys_referral_too() -> None:
    workload = Workload("http://127.0.0.1:1", "agency.secret", run_id="r", seed=1, decline_every=4)
    declined, kept = uuid.uuid4(), uuid.uuid4()
    workload.declined[declined] = uuid.uuid4()
    assert (referrals_expected(workload, declined), referrals_expected(workload, kept)) == (2, 1)


def test_the_line_says_in_which_versions_the_declines_were_recorded() -> None:
    detail = {"declines_by_versions_recorded": {"v1": 41, "v1 + v2": 34}}
    outcome = Outcome("upgrade-producers-first", "…", 30, 10, 1, 0, 0, 0, 0, 0, "2/2 (+0 other)", 0.1, True, detail)
    assert "declines recorded as v1: 41, v1 + v2: 34," in _line(outcome)


def test_what_agencies_saw_is_the_longest_time_without_an_acceptance_and_the_p99_answer() -> None:
    workload = Workload("http://127.0.0.1:1", "agency.secret", run_id="r", seed=1)
    case = uuid.uuid4()
    # accepted at 1, 2 and 9.5 s (a failover between), one refused at 3 s; each sent half a second before
    workload.submitted = [
        Submitted("a", True, 201, case, sent_at=0.5, answered_at=1.0),
        Submitted("b", True, 201, case, sent_at=1.5, answered_at=2.0),
        Submitted("c", False, 422, sent_at=2.5, answered_at=3.0),
        Submitted("d", True, 201, case, sent_at=2.5, answered_at=9.5),
    ]
    longest, p99 = workload.answering()
    assert longest == 7.5 and p99 == 7.0
    outcome = Outcome("postgres-failover", "…", 9, 3, 1, 0, 0, 0, 0, 0, "0/0 (+0 other)", 1.0, True, {})
    outcome.detail.update(longest_without_acceptance_s=7.5, p99_answer_ms=7000)
    assert "at most 7.5s without an acceptance, p99 answer 7000 ms" in _line(outcome)


def test_the_first_acceptance_after_the_fault_and_what_the_tries_before_it_met() -> None:
    workload = Workload("http://127.0.0.1:1", "agency.secret", run_id="r", seed=1)
    case = uuid.uuid4()
    workload.submitted = [
        Submitted("a", True, 201, case, sent_at=0.5, answered_at=1.0),
        Submitted("b", False, 422, sent_at=2.0, answered_at=40.5),  # a refusal is no acceptance
        Submitted("c", True, 201, case, sent_at=2.0, answered_at=56.0),
    ]
    # the fault over at 40 s: before the acceptance at 56 s, tries hung to the load generator's timeout
    workload.failed_tries = [(20.0, "503"), (41.0, "503"), (51.0, "ReadTimeout"), (52.0, "ReadTimeout")]
    assert workload.after(40.0) == (16.0, {"503": 1, "ReadTimeout": 2})
    assert workload.after(60.0) == (None, {})
    outcome = Outcome("db-cutoff", "…", 9, 2, 1, 0, 0, 0, 0, 0, "0/0 (+0 other)", 4.7, True, {})
    outcome.detail.update(first_acceptance_after_fault_s=16.0, failed_tries_before_it={"503": 1, "ReadTimeout": 2})
    assert "first acceptance came 16.0s after the fault was over (1 503, 2 ReadTimeout before it)" in _line(outcome)
