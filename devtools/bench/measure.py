"""Repetitions, medians and spreads, and latency percentiles."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class Figure:
    name: str
    unit: str
    runs: list[float] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.runs) if self.runs else 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {
            "median": self.median,
            "min": min(self.runs, default=0.0),
            "max": max(self.runs, default=0.0),
        }


async def repeat(name: str, unit: str, times: int, once: Callable[[], Awaitable[float]]) -> Figure:
    figure = Figure(name, unit)
    for _ in range(times):
        figure.runs.append(await once())
    return figure


async def open_loop(rate: float, count: int, one: Callable[[int], Coroutine[Any, Any, None]]) -> None:
    """Start `one(n)` at n/rate seconds whether or not the earlier ones have finished (an open loop: a slow
    answer does not slow the arrivals, as it would with a fixed set of clients), then wait for them all."""
    start = time.perf_counter()
    tasks = []
    for n in range(count):
        delay = start + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(n)))
    await asyncio.gather(*tasks)


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"p50": 0.0, "p95": 0.0, "p99": 0.0, "p99.9": 0.0}

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99), "p99.9": at(0.999)}


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.began = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.began
