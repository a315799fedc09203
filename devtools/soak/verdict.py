"""What a soak's samples say: memory flat after warm-up, backlogs that do not grow.

Each series is judged by two windows of equal length: the first right after the warm-up, the last at the end of
the run. Comparing means over windows rather than single samples keeps one minute's garbage collection or one
burst of work from deciding the verdict.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from statistics import fmean

MEMORY_TOLERANCE = 0.10
"""The issue's rule: memory after warm-up stays within 10%."""


@dataclass(frozen=True)
class Finding:
    series: str
    first: float
    """The mean of the window right after the warm-up."""
    last: float
    """The mean of the run's last window."""
    ok: bool
    rule: str


def windows(
    minutes: Sequence[float], values: Sequence[float], *, warmup: float, window: float
) -> tuple[float, float] | None:
    """The means of the first window after `warmup` and of the last window; None when the run is too short for
    the two not to overlap."""
    end = minutes[-1] if minutes else 0.0
    if end - window < warmup + window:
        return None
    first = [v for m, v in zip(minutes, values, strict=True) if warmup <= m < warmup + window]
    last = [v for m, v in zip(minutes, values, strict=True) if m > end - window]
    if not first or not last:
        return None
    return fmean(first), fmean(last)


def memory_flat(
    series: str, minutes: Sequence[float], values: Sequence[float], *, warmup: float, window: float
) -> Finding:
    means = windows(minutes, values, warmup=warmup, window=window)
    rule = f"last {window:g} min within {MEMORY_TOLERANCE:.0%} of the first {window:g} min after warm-up"
    if means is None:
        return Finding(series, 0.0, 0.0, ok=False, rule=f"run too short to judge: {rule}")
    first, last = means
    return Finding(series, first, last, ok=last <= first * (1 + MEMORY_TOLERANCE), rule=rule)


def not_growing(
    series: str,
    minutes: Sequence[float],
    values: Sequence[float],
    *,
    warmup: float,
    window: float,
    slack: float,
    relative: float = 0.0,
) -> Finding:
    """A count judged by the same two windows: the last may exceed the first by at most `relative` of it plus
    `slack`. A backlog in steady state comes and goes by a few records, PostgreSQL's descriptors by its backends'
    open files; a count that grows without bound leaves any slack behind."""
    means = windows(minutes, values, warmup=warmup, window=window)
    allowance = f"{relative:.0%} + {slack:g}" if relative else f"{slack:g}"
    rule = f"last {window:g} min at most {allowance} above the first {window:g} min after warm-up"
    if means is None:
        return Finding(series, 0.0, 0.0, ok=False, rule=f"run too short to judge: {rule}")
    first, last = means
    return Finding(series, first, last, ok=last <= first * (1 + relative) + slack, rule=rule)
