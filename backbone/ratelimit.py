"""Per-agency request limits: one token bucket per agency, in each service process.

A runaway agency system (a retry loop without backoff, a batch job sent all at once) must not crowd out
the others. Each authenticated agency may make `rate` requests a second on average, in bursts of up to
`burst`; beyond that it is answered 429 with Retry-After. The limit is per process: with N instances
behind a load balancer an agency gets N times as much, which is the point of scaling out.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass
class _Bucket:
    tokens: float
    updated: float


class AgencyLimiter:
    def __init__(self, rate: float, burst: int, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def take(self, agency: str) -> float:
        """Spend one request of the agency's allowance: 0 when allowed, else seconds until the next one is."""
        now = self.clock()
        bucket = self._buckets.setdefault(agency, _Bucket(tokens=float(self.burst), updated=now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        if bucket.tokens >= 1:
            bucket.tokens -= 1
            return 0.0
        return (1 - bucket.tokens) / self.rate
