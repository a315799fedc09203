"""Diagnostics for memory that grows (`backbone soak` uses them): where a process's memory is, between two
moments an operator chooses, without reading a value of a case.

Each SIGUSR2 logs one line of what the allocators hold (below), so that an operator who sees a service's memory
climb can ask it without a restart. When `BACKBONE_MEMORY_PROBE` names a directory:
- each SIGUSR2 appends instead one row to `<directory>/<service>-<pid>-allocators.csv`: what CPython's small-object
  allocator (pymalloc) and glibc's malloc hold, and how much of it is free inside them. Cheap (a millisecond),
  so a soak asks for it every minute. It tells a leak (memory in use grows) from fragmentation (the free
  memory kept inside the allocators grows) and Python's objects from C libraries' allocations;
- with `PYTHONTRACEMALLOC` set as well (tracing costs CPU and memory of its own), each SIGUSR1 writes to
  `<directory>/<service>-<pid>.txt`: the first a baseline, every later one the 25 source lines whose held
  memory grew most since that baseline and, when it keeps more than one frame (`PYTHONTRACEMALLOC=8`), the 10
  call paths that grew most.

Sizes and line numbers only: nothing of a case can reach the files.
"""

from __future__ import annotations

import ctypes
import gc
import logging
import os
import re
import signal
import sys
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from backbone.allocator import libc_function

log = logging.getLogger(__name__)

SHOWN = 25
TRACED = 10
ALLOCATOR_FIGURES = (
    "pymalloc_arenas",
    "pymalloc_used",
    "pymalloc_free",
    "malloc_heap",
    "malloc_mmapped",
    "malloc_used",
    "malloc_free",
)
"""Bytes. pymalloc: its 1 MiB arenas, the blocks in use in them, and the free blocks and pools they keep.
malloc (glibc, main arena and the others): the heap it took with brk, the large blocks it mmapped, what is in
use of both, and what it keeps free."""


def install_if_asked(service: str) -> None:
    directory = os.environ.get("BACKBONE_MEMORY_PROBE")
    if not directory:
        signal.signal(signal.SIGUSR2, _log_allocators)
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    _write_allocators_on(signal.SIGUSR2, Path(directory) / f"{service}-{os.getpid()}-allocators.csv")
    if tracemalloc.is_tracing():
        _write_growth_on(signal.SIGUSR1, Path(directory) / f"{service}-{os.getpid()}.txt")


def allocator_figures() -> dict[str, int]:
    """The figures of `ALLOCATOR_FIGURES`; glibc's are 0 on a C library without `mallinfo2` (musl, macOS)."""
    return _pymalloc() | _glibc_malloc()


def full_collections() -> int:
    """How many times the cyclic garbage collector has collected its oldest generation. Cyclic garbage (an
    exception and its traceback, a cancelled task) can wait there for an hour on a steady load, and then goes at
    once: memory in use that climbs and then drops at such a collection was garbage, not a leak."""
    return int(gc.get_stats()[2]["collections"])


def _log_allocators(_signum: int, _frame: FrameType | None) -> None:
    figures = allocator_figures()
    log.info(
        "memory: %s",
        ", ".join(
            [
                *(f"{name.replace('_', ' ')} {figures[name] / 2**20:.1f} MiB" for name in ALLOCATOR_FIGURES),
                f"full collections {full_collections()}",
            ]
        ),
        extra={"allocators": figures},
    )


def _write_allocators_on(signum: signal.Signals, path: Path) -> None:
    def write(_signum: int, _frame: FrameType | None) -> None:
        new = not path.exists()
        figures = allocator_figures()
        with path.open("a", encoding="utf-8") as out:
            if new:
                out.write(",".join(("unix_time", *ALLOCATOR_FIGURES, "full_collections")) + "\n")
            values = (str(figures[name]) for name in ALLOCATOR_FIGURES)
            out.write(",".join((f"{time.time():.0f}", *values, str(full_collections()))) + "\n")

    signal.signal(signum, write)


def _write_growth_on(signum: signal.Signals, path: Path) -> None:
    baseline: list[tracemalloc.Snapshot] = []

    def dump(_signum: int, _frame: FrameType | None) -> None:
        gc.collect()  # garbage not yet collected is no leak: only what is still reachable counts
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
            if tracemalloc.get_traceback_limit() > 1:  # who called: what holds the memory is often a caller
                out.write(f"# the {TRACED} call paths that grew most, innermost call last\n")
                for stat in snapshot.compare_to(baseline[0], "traceback")[:TRACED]:
                    out.write(f"{stat.size_diff / 1024:+.1f} KiB in {stat.count_diff:+d} blocks:\n")
                    out.write("".join(f"    {line}\n" for line in stat.traceback.format()))

    signal.signal(signum, dump)


_PYMALLOC_LINES = {
    "pymalloc_arenas": re.compile(r"^\d+ arenas \* \d+ bytes/arena\s+=\s+([\d,]+)$"),
    "pymalloc_used": re.compile(r"^# bytes in allocated blocks\s+=\s+([\d,]+)$"),
    "available": re.compile(r"^# bytes in available blocks\s+=\s+([\d,]+)$"),
    "unused pools": re.compile(r"^\d+ unused pools \* \d+ bytes\s+=\s+([\d,]+)$"),
}


def _pymalloc() -> dict[str, int]:
    """From `sys._debugmallocstats`, CPython's only report of its arenas, which it prints to the C stderr."""
    with tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        try:
            os.dup2(capture.fileno(), 2)
            sys._debugmallocstats()
        finally:
            os.dup2(saved, 2)
            os.close(saved)
        capture.seek(0)
        text = capture.read().decode("utf-8", "replace")
    found = dict.fromkeys(_PYMALLOC_LINES, 0)
    for line in text.splitlines():
        for name, pattern in _PYMALLOC_LINES.items():
            if match := pattern.match(line.strip()):
                found[name] = int(match[1].replace(",", ""))
    return {
        "pymalloc_arenas": found["pymalloc_arenas"],
        "pymalloc_used": found["pymalloc_used"],
        "pymalloc_free": found["available"] + found["unused pools"],
    }


class _MallInfo2(ctypes.Structure):
    _FIELDS = "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
    _fields_ = [(name, ctypes.c_size_t) for name in _FIELDS.split()]


def _glibc_malloc() -> dict[str, int]:
    mallinfo2 = libc_function("mallinfo2")
    if mallinfo2 is None:
        return dict.fromkeys(ALLOCATOR_FIGURES[3:], 0)
    mallinfo2.restype = _MallInfo2
    info = mallinfo2()
    return {
        "malloc_heap": info.arena,
        "malloc_mmapped": info.hblkhd,
        "malloc_used": info.uordblks + info.hblkhd,
        "malloc_free": info.fordblks,
    }
