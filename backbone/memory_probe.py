"""A diagnostic for memory that grows (`backbone soak --trace-memory` uses it): where a service allocated the
memory it still holds, by source line, between two moments an operator chooses.

Off unless the process runs with `PYTHONTRACEMALLOC` set (tracing costs CPU and memory of its own) and
`BACKBONE_MEMORY_PROBE` names a directory. Then each SIGUSR1 writes to `<directory>/<service>-<pid>.txt`: the
first a baseline, every later one the 25 source lines whose held memory grew most since that baseline. Sizes
and line numbers only: no value is read, so nothing of a case can reach the file.
"""

from __future__ import annotations

import os
import signal
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

SHOWN = 25


def install_if_asked(service: str) -> None:
    directory = os.environ.get("BACKBONE_MEMORY_PROBE")
    if not directory or not tracemalloc.is_tracing():
        return
    path = Path(directory) / f"{service}-{os.getpid()}.txt"
    path.parent.mkdir(parents=True, exist_ok=True)
    baseline: list[tracemalloc.Snapshot] = []

    def dump(_signum: int, _frame: FrameType | None) -> None:
        snapshot = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(False, tracemalloc.__file__)])
        held = sum(stat.size for stat in snapshot.statistics("filename")) / 2**20
        at = datetime.now(UTC).isoformat(timespec="seconds")
        with path.open("a", encoding="utf-8") as out:
            if not baseline:
                baseline.append(snapshot)
                out.write(f"# {at} baseline: {held:.1f} MiB held by Python allocations\n")
                return
            out.write(f"# {at}: {held:.1f} MiB held; the lines that grew most since the baseline\n")
            for stat in snapshot.compare_to(baseline[0], "lineno")[:SHOWN]:
                out.write(f"{stat}\n")

    signal.signal(signal.SIGUSR1, dump)
