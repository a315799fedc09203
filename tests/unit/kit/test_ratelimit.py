"""Per-agency token buckets: a burst, then the average rate, and each agency on its own."""

from __future__ import annotations

from backbone.ratelimit import AgencyLimiter


def test_a_burst_is_allowed_then_the_rate_and_each_agency_has_its_own_allowance() -> None:
    now = [0.0]
    limiter = AgencyLimiter(rate=2, burst=3, clock=lambda: now[0])
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.take("a") == 0.5  # one more token in half a second at 2 a second
    assert limiter.take("b") == 0.0  # another agency is not held up
    now[0] = 0.5
    assert limiter.take("a") == 0.0
    assert limiter.take("a") > 0
    now[0] = 100.0
    assert [limiter.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]  # refilled, but never beyond the burst
    assert limiter.take("a") > 0
