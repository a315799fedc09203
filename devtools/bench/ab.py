"""`backbone bench --against COMMIT`: today's services against another release's, in one run, on one machine.

What a change to the services bought is only worth the figures measured beside the code before it: the machine
is shared and noisy, and a figure from another day says little. So both run here, in rounds that alternate
(the release, today's, the release, …), the services started afresh from the side's code before each, so that
neither is favoured by going first or by what the other left behind. Each round measures:

- **P1**: consultations per second, submitted over HTTP until their e-mail is delivered (`Pipeline.throughput`);
- **C1**: the backbone's CPU per consultation in that P1 (every process of the services, PostgreSQL, Kafka and the
  SMTP server, from /proc: `devtools/bench/cpu.py`), and the load generator's own beside it;
- **L1**: submission → e-mail delivered at half of the side's P1, open loop (p50, p99), and each hop's p50 on the
  way (`devtools/bench/hops.py`);
- **L3**: intake's POST answered, at half of the side's P1, open loop (p50, p99), and the load generator's CPU.

Only the services' code differs between the sides: Kafka, PostgreSQL, the SMTP server and the load generator
are today's for both (the release's services run from its own source, `devtools/local/releases.py`).
"""

from __future__ import annotations

import asyncio
import json
import statistics
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devtools.bench.cpu import LOAD_GENERATOR
from devtools.bench.hops import HOPS
from devtools.bench.pipeline import Pipeline
from devtools.bench.stages import intake_post_latency
from devtools.local.operators import use_directory_defaults
from devtools.local.releases import Release, release_at
from devtools.local.stack import MEASURING, SERVICE_PORTS, LocalStack

TODAY = "today"
GROUP_PREFIX = "C1 of "  # each process group's CPU per consultation, in the second table
HOP_PREFIX = "L1 hop: "  # each hop's p50 of a consultation's way in L1 (devtools/bench/hops.py), after them


@dataclass
class Side:
    """One side's rounds: each figure's value per round."""

    name: str
    release: Release | None
    rounds: dict[str, list[float]] = field(default_factory=dict)

    def add(self, figure: str, value: float) -> None:
        self.rounds.setdefault(figure, []).append(round(value, 3))

    def median(self, figure: str) -> float:
        return statistics.median(self.rounds[figure])


# (figure, unit), in the order of the table.
FIGURES = (
    ("P1", "consultations/s"),
    ("C1 backbone CPU per consultation", "ms"),
    ("C1 load generator CPU per consultation", "ms"),
    ("L1 p50 at half of P1", "ms"),
    ("L1 p99 at half of P1", "ms"),
    ("L3 intake POST p50 at half of P1", "ms"),
    ("L3 intake POST p99 at half of P1", "ms"),
    ("L3 load generator CPU per request", "ms"),
)


def run_ab(
    stack: LocalStack,
    against: str,
    *,
    to: str | None = None,
    rounds: int,
    consultations: int,
    seconds: float,
    out: Path,
) -> Path:
    """`against`'s services (a commit) before, `to`'s after (a later commit; today's working tree when None)."""
    release = release_at(stack.paths.home, print, commit=against)
    later = release_at(stack.paths.home, print, commit=to) if to else None
    sides = [Side(release.label, release), Side(later.label if later else TODAY, later)]
    stack.up_services(print, extra_env=MEASURING)  # the agencies' defaults are set through the services' APIs
    pipeline = Pipeline.on(stack, use_directory_defaults(stack))
    try:
        for number in range(1, rounds + 1):
            for side in sides:
                print(f"  round {number}/{rounds}, {side.name}: restarting the services from its code …", flush=True)
                for service in SERVICE_PORTS:
                    stack.restart_service(service, MEASURING, release=side.release)
                asyncio.run(_round(side, pipeline, stack.base_url("intake"), consultations, seconds))
                print(f"    {_summary(side)}", flush=True)
    finally:
        print("  restarting today's services with their usual settings …", flush=True)
        stack.restart_services({})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "when": stamp,
        "against": release.commit,
        "rounds": rounds,
        "consultations": consultations,
        "sides": {side.name: side.rounds for side in sides},
    }
    (out / f"ab-{stamp}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    table = markdown(sides[0], sides[1], rounds=rounds, consultations=consultations)
    written = out / f"ab-{stamp}.md"
    written.write_text(table, encoding="utf-8")
    print(table)
    return written


async def _round(side: Side, pipeline: Pipeline, intake_url: str, consultations: int, seconds: float) -> None:
    p1, used = await pipeline.metered_throughput(consultations)
    cpu = used.per_item_ms(consultations)
    side.add("P1", p1)
    side.add("C1 backbone CPU per consultation", cpu["backbone"])
    side.add("C1 load generator CPU per consultation", cpu.get(LOAD_GENERATOR, 0.0))
    for group, ms in cpu.items():
        if group not in {"backbone", LOAD_GENERATOR}:
            side.add(f"{GROUP_PREFIX}{group}", ms)
    l1 = await pipeline.latency(p1 / 2, seconds)
    side.add("L1 p50 at half of P1", l1["p50"])
    side.add("L1 p99 at half of P1", l1["p99"])
    for hop in HOPS:
        side.add(f"{HOP_PREFIX}{hop} p50", l1[f"{hop} p50"])
    l3 = await intake_post_latency(intake_url, pipeline.token, rate=p1 / 2, seconds=seconds)
    side.add("L3 intake POST p50 at half of P1", l3["p50"])
    side.add("L3 intake POST p99 at half of P1", l3["p99"])
    side.add("L3 load generator CPU per request", l3["load generator CPU ms/request"])


def _summary(side: Side) -> str:
    return ", ".join(f"{name} {values[-1]:g}" for name, values in side.rounds.items() if name in dict(FIGURES))


def markdown(before: Side, after: Side, *, rounds: int, consultations: int) -> str:
    lines = [
        f"{before.name} against {after.name}: {rounds} alternating rounds of {consultations} consultations each;"
        " medians of the rounds. The ratio is the second's over the first's.",
        "",
        f"| figure | unit | {before.name} | {after.name} | ratio | rounds ({before.name}) | rounds ({after.name}) |",
        "|---|---|---:|---:|---:|---|---|",
    ]
    groups = sorted({f for side in (before, after) for f in side.rounds if f.startswith(GROUP_PREFIX)})
    hops = [f"{HOP_PREFIX}{hop} p50" for hop in HOPS]
    for figure, unit in [*FIGURES, *((group, "ms") for group in groups), *((hop, "ms") for hop in hops)]:
        a, b = (side.median(figure) if figure in side.rounds else 0.0 for side in (before, after))
        ratio = f"{b / a:.2f}×" if a else "—"
        each = [", ".join(f"{v:g}" for v in side.rounds.get(figure, [])) for side in (before, after)]
        lines.append(f"| {figure} | {unit} | {a:,.2f} | {b:,.2f} | {ratio} | {each[0]} | {each[1]} |")
    return "\n".join(lines) + "\n"
