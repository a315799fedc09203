"""The circuit breakers of notify's channels: open after consecutive failures, one probe at a time once the rest
is over, closed by the first probe that succeeds; a probe that never reports does not keep the breaker shut."""

from __future__ import annotations

from services.notify.channels import CircuitBreakers

KEY = "smtp://127.0.0.1:2525"


def opened(at: float = 100.0) -> CircuitBreakers:
    breakers = CircuitBreakers(failures=3, open_seconds=3.0, probe_seconds=10.0)
    for _ in range(3):
        assert breakers.allows(KEY, at)
        breakers.record(KEY, ok=False, now=at)
    return breakers


def test_consecutive_failures_open_it_and_a_success_in_between_starts_the_count_again() -> None:
    breakers = CircuitBreakers(failures=3, open_seconds=3.0, probe_seconds=10.0)
    for ok in (False, False, True, False, False):
        breakers.record(KEY, ok=ok, now=100.0)
    assert breakers.allows(KEY, 100.0)
    breakers.record(KEY, ok=False, now=100.0)
    assert not breakers.allows(KEY, 100.0)
    assert breakers.allows("https://other.example/hook", 100.0)  # every key has its own


def test_once_the_rest_is_over_one_probe_goes_and_the_others_keep_resting() -> None:
    breakers = opened()
    assert not breakers.allows(KEY, 102.9)
    assert breakers.allows(KEY, 103.0)  # the probe
    assert not breakers.allows(KEY, 103.1)  # while it is out, nothing else


def test_a_failed_probe_opens_it_again_and_a_successful_one_closes_it() -> None:
    breakers = opened()
    assert breakers.allows(KEY, 103.0)
    breakers.record(KEY, ok=False, now=103.5)
    assert not breakers.allows(KEY, 106.4)
    assert breakers.allows(KEY, 106.5)
    breakers.record(KEY, ok=True, now=106.6)
    assert all(breakers.allows(KEY, 106.7) for _ in range(5))  # closed: everything goes


def test_a_probe_that_never_reports_is_given_up_after_its_time() -> None:
    breakers = opened()
    assert breakers.allows(KEY, 103.0)  # a probe whose send was cancelled: no record comes
    assert not breakers.allows(KEY, 112.9)
    assert breakers.allows(KEY, 113.0)
