"""What a soak samples each minute, read where the operators would read it: a process's memory, file descriptors
and sockets from /proc; consumer lag and outbox backlog from each service's /metrics; the ledger's size from the
audit database.

Memory is PSS (proportional set size), not RSS: PostgreSQL's backends share its buffers, and RSS would count them
once per backend. PSS is then split by kind. *Private* (anonymous) memory is what a process allocated for itself:
heaps, Python's objects, a JVM's heap, a backend's caches; a leak shows there. *Shared* memory is PostgreSQL's
buffer pool and the like: PSS counts a page of it once touched, so it fills as the database is read and written,
up to the configured size (`shared_buffers`) and no further. The rest is files mapped (code and libraries).

Descriptors are split the same way. A PostgreSQL backend keeps open each relation file (a table's, an index's, and
their free-space and visibility maps) it has touched, as a cache: it holds more of them as it lives and as the
tables grow those maps, at most as many as its database has, and never more than `max_files_per_process`. The
pools close a connection idle for five minutes and open a new backend, whose cache starts empty, so the count
saws. Those are counted apart (`relation_fds`); a leak of anything else (sockets, pipes, logs) shows in the rest.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

PROC = Path("/proc")
RELATION_FILE = re.compile(r"/(base/\d+|global)/(t\d+_)?\d+(_fsm|_vm|_init)?(\.\d+)?$")
"""A PostgreSQL relation file, by its place under the data directory: base/<database>/<relation>[_fork][.segment]
(t<backend>_<relation> for a temporary table), or global/<relation> for the catalogs every database shares."""


@dataclass(frozen=True)
class ProcessFigures:
    pss_bytes: int
    private_bytes: int
    """Pss_Anon: anonymous memory, the part a leak grows."""
    shared_bytes: int
    """Pss_Shmem: shared memory, bounded by its configured size."""
    fds: int
    relation_fds: int
    """Of `fds`, those open on PostgreSQL's relation files: its backends' cache (see above)."""
    sockets: int
    processes: int
    """How many processes were summed (PostgreSQL: the postmaster and its backends)."""


def process_tree(pid: int, *, proc: Path = PROC) -> list[int]:
    """`pid` and its descendants (PostgreSQL's backends are the postmaster's children)."""
    children: dict[int, list[int]] = {}
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # ended while read
        children.setdefault(parent, []).append(int(entry.name))
    tree, todo = [], [pid]
    while todo:
        each = todo.pop()
        tree.append(each)
        todo.extend(children.get(each, []))
    return tree


def figures(pids: list[int], *, proc: Path = PROC) -> ProcessFigures:
    """The summed figures of `pids`; a process that ended meanwhile counts nothing."""
    pss = private = shared = fds = relation_fds = sockets = counted = 0
    for pid in pids:
        try:
            memory = _rollup(proc / str(pid) / "smaps_rollup")
            links = [link for fd in (proc / str(pid) / "fd").iterdir() if (link := _link(fd)) is not None]
        except OSError:
            continue  # the process ended
        pss += memory["Pss"]
        private += memory.get("Pss_Anon", memory["Pss"])  # a kernel without the split: all of it
        shared += memory.get("Pss_Shmem", 0)
        fds += len(links)
        relation_fds += sum(RELATION_FILE.search(link) is not None for link in links)
        sockets += sum(link.startswith("socket:") for link in links)
        counted += 1
    return ProcessFigures(pss, private, shared, fds, relation_fds, sockets, counted)


def _link(fd: Path) -> str | None:
    """What a descriptor points at; None for one closed since the listing (the listing's own, for one)."""
    try:
        return str(fd.readlink())
    except OSError:
        return None


def _rollup(smaps_rollup: Path) -> dict[str, int]:
    """The Pss lines of `smaps_rollup`, in bytes (the split by kind needs Linux 5.8 or later)."""
    found = {
        name.rstrip(":"): int(size) * 1024
        for name, size, *_ in (line.split() for line in smaps_rollup.read_text().splitlines() if line.startswith("Pss"))
    }
    if "Pss" not in found:
        raise OSError(f"no Pss line in {smaps_rollup}")
    return found


def relation_files(data_dir: Path) -> int:
    """How many relation files a PostgreSQL cluster has: the most its backends could hold open between them, each
    at most its own database's and the shared catalogs'."""
    return sum(RELATION_FILE.search(str(file)) is not None for file in data_dir.rglob("*"))


@dataclass(frozen=True)
class ServiceFigures:
    consumer_lag: int
    outbox_backlog: int


def service_figures(metrics_text: str) -> ServiceFigures:
    """A service's consumer lag (summed over its partitions) and outbox backlog, from its /metrics page."""
    lag = backlog = 0.0
    for family in text_string_to_metric_families(metrics_text):
        if family.name == "backbone_consumer_lag":
            lag += sum(sample.value for sample in family.samples)
        elif family.name == "backbone_outbox_backlog":
            backlog += sum(sample.value for sample in family.samples)
    return ServiceFigures(int(lag), int(backlog))
