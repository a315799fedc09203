"""CPU time per process group, read from /proc: what a measured stretch of work cost the machine, and whom.

Every process's user + system time (/proc/<pid>/stat, utime and stime) is read before and after. A process
that started in between counts in full; one that ended in between is lost, so the figure undercounts rather
than overcounts (PostgreSQL backends of connections closed mid-run; the services' pools keep theirs open).

The groups: each service's processes (all its instances), the PostgreSQL backends of each service's role, the
rest of PostgreSQL, Kafka, the SMTP server, the load generator (this process, reported beside the backbone's
figures so that it is not mistaken for them), Keycloak (idle while the benchmark runs: tokens are agencies'),
and everything else on the machine.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from backbone.settings import ServiceName
from devtools.local.stack import SERVICE_PORTS

TICKS_PER_SECOND = os.sysconf("SC_CLK_TCK")
LOAD_GENERATOR = "load generator"
NOT_THE_BACKBONE = frozenset({LOAD_GENERATOR, "Keycloak", "other"})
SERVICES: tuple[ServiceName, ...] = tuple(SERVICE_PORTS)


def group_of(argv: list[str], pid: int) -> str:
    """Which group a process belongs to, by its command line."""
    if pid == os.getpid():
        return LOAD_GENERATOR
    if argv and argv[0].startswith("postgres: "):
        role = argv[0].split()[1]
        return f"{role} (PostgreSQL)" if role in SERVICES else "PostgreSQL"
    if "serve" in argv:
        served = argv[argv.index("serve") + 1 :]
        if served and served[0] in SERVICES:
            return served[0]
    joined = " ".join(argv)
    for marker, group in (
        ("/bin/postgres", "PostgreSQL"),
        ("kafka.Kafka", "Kafka"),
        ("aiosmtpd", "SMTP server"),
        ("keycloak", "Keycloak"),
        ("kc.config", "Keycloak"),
    ):
        if marker in joined:
            return group
    return "other"


def snapshot() -> dict[int, tuple[str, float]]:
    """Every process now: pid → (group, CPU seconds so far)."""
    taken: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            argv = (entry / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue  # ended while being read
        fields = stat.rsplit(")", 1)[1].split()
        seconds = (int(fields[11]) + int(fields[12])) / TICKS_PER_SECOND  # utime, stime
        taken[int(entry.name)] = (group_of([a for a in argv if a], int(entry.name)), seconds)
    return taken


@dataclass
class CpuUse:
    """CPU seconds per group over a stretch of work."""

    seconds: dict[str, float] = field(default_factory=dict)

    @classmethod
    def between(cls, before: dict[int, tuple[str, float]], after: dict[int, tuple[str, float]]) -> CpuUse:
        use = cls()
        for pid, (group, seconds) in after.items():
            earlier = before.get(pid)
            spent = seconds - (earlier[1] if earlier and earlier[0] == group else 0.0)
            use.seconds[group] = use.seconds.get(group, 0.0) + spent
        return use

    @property
    def backbone(self) -> float:
        """The backbone's CPU seconds: services, PostgreSQL, Kafka and the SMTP server."""
        return sum(seconds for group, seconds in self.seconds.items() if group not in NOT_THE_BACKBONE)

    def per_item_ms(self, items: int) -> dict[str, float]:
        """Milliseconds of CPU per item (a consultation), per group, with the backbone's total."""
        per = {group: round(1000 * seconds / items, 3) for group, seconds in sorted(self.seconds.items())}
        return per | {"backbone": round(1000 * self.backbone / items, 3)}


class CpuMeter:
    """`with CpuMeter() as meter: …`, then `meter.use`."""

    def __enter__(self) -> CpuMeter:
        self._before = snapshot()
        return self

    def __exit__(self, *_: object) -> None:
        self.use = CpuUse.between(self._before, snapshot())
