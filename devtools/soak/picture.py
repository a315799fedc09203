"""The soak's picture: one panel per figure, one line per process or service, minutes along the bottom."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display
import matplotlib.pyplot as plt

PANELS = (
    ("private_mib", "private memory (judged, MiB)"),
    ("pss_mib", "memory in all (PSS, MiB)"),
    ("pymalloc_used_mib", "Python's objects (pymalloc blocks in use, MiB)"),
    # mallinfo2 counts a free chunk whether or not malloc_trim gave its pages back: not all of it is resident.
    ("allocators_free_mib", "free inside the allocators (pymalloc + malloc, trimmed pages too, MiB)"),
    ("shared_mib", "shared memory (PostgreSQL's buffers, MiB)"),
    ("fds", "open file descriptors"),
    ("relation_fds", "of those, PostgreSQL's relation files (its backends' cache)"),
    ("sockets", "open sockets"),
    ("processes", "processes (PostgreSQL: postmaster and backends)"),
    ("consumer_lag", "consumer lag (records)"),
    ("outbox_backlog", "outbox backlog (rows)"),
    ("ledger_rows", "audit ledger (rows)"),
)


def draw(samples: Path, png: Path, *, title: str) -> Path:
    lines: dict[str, dict[str, tuple[list[float], list[float]]]] = {}
    with samples.open() as source:
        for row in csv.DictReader(source):
            minutes, values = lines.setdefault(row["figure"], {}).setdefault(row["subject"], ([], []))
            minutes.append(float(row["minute"]))
            values.append(float(row["value"]))
    figure, axes = plt.subplots(6, 2, figsize=(14, 23), sharex=True)
    for axis, (name, label) in zip(axes.flat, PANELS, strict=True):
        for subject, (minutes, values) in sorted(lines.get(name, {}).items()):
            axis.plot(minutes, values, label=subject, linewidth=1)
        axis.set_title(label)
        axis.set_ylim(bottom=0)
        axis.grid(alpha=0.3)
        if lines.get(name):
            axis.legend(fontsize=7, loc="upper left")
    for axis in axes[-1]:
        axis.set_xlabel("minutes")
    figure.suptitle(title)
    figure.tight_layout(rect=(0, 0, 1, 0.985))  # room for the title above the panels
    figure.savefig(png, dpi=90)
    plt.close(figure)
    return png
