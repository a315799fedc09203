"""Repetitions, medians and spreads, and latency percentiles."""

from __future__ import annotations

import statistics
import time
from collections.abc import Awaitable, Callable
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


def percentiles(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    if not ordered:
        return {"p50": 0.0, "p99": 0.0, "p99.9": 0.0}

    def at(fraction: float) -> float:
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    return {"p50": at(0.50), "p99": at(0.99), "p99.9": at(0.999)}


class Stopwatch:
    def __enter__(self) -> Stopwatch:
        self.began = time.perf_counter()
        return self

    def __exit__(self, *_: object) -> None:
        self.seconds = time.perf_counter() - self.began
