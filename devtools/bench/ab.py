"""`backbone bench --against COMMIT`: today's services against another release's, in one run, on one machine.

What a change to the services bought is only worth the figures measured beside the code before it: the machine
is shared and noisy, and a figure from another day says little. So both run here, in rounds that alternate
(the release, today's, the release, …), the services started afresh from the side's code before each
measurement, so that neither is favoured by going first or by what the other left behind. Each round measures:

- **P1**: consultations per second, submitted over HTTP until their e-mail is delivered (`Pipeline.throughput`);
- **C1**: the backbone's CPU per consultation in that P1 (every process of the services, PostgreSQL, Kafka and the
  SMTP server, from /proc: `devtools/bench/cpu.py`), and the load generator's own beside it;

and then, at one rate for both sides (half of the lower of the round's two P1, or a fixed `rate`):

- **L1**: submission → e-mail delivered, open loop (p50, p99), and each hop's p50 on the way
  (`devtools/bench/hops.py`);
- **L3**: intake's POST answered, open loop (p50, p99), and the load generator's CPU.

One rate for both, because latency grows with the rate: were each side's L1 measured at half of its own P1, the
side with the higher P1 would be measured under more load, and part of every L1 ratio would be the rates' ratio.

Only the services differ between the sides: Kafka, PostgreSQL, the SMTP server and the load generator are today's
for both (a release's services run from its own source, `devtools/local/releases.py`). The later side may also
run with settings of its own (`to_env`), so that a setting is measured the same way as a commit.
"""

from __future__ import annotations

import asyncio
import json
import statistics
from collections.abc import Mapping
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
    env: Mapping[str, str] = field(default_factory=dict)  # settings of this side's own, beside MEASURING
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
    ("L1 and L3 rate", "consultations/s"),
    ("L1 p50", "ms"),
    ("L1 p99", "ms"),
    ("L3 intake POST p50", "ms"),
    ("L3 intake POST p99", "ms"),
    ("L3 load generator CPU per request", "ms"),
)


def common_rate(p1: Mapping[str, float], fixed: float | None) -> float:
    """The rate of L1 and L3 for both sides of a round: `fixed` when given, else half of the lower P1."""
    return fixed if fixed is not None else min(p1.values()) / 2


def run_ab(
    stack: LocalStack,
    against: str,
    *,
    to: str | None = None,
    to_env: Mapping[str, str] | None = None,
    rounds: int,
    consultations: int,
    seconds: float,
    rate: float | None = None,
    out: Path,
) -> Path:
    """`against`'s services (a commit) before, `to`'s after (a later commit; today's working tree when None),
    the later with `to_env` added to its settings; L1 and L3 at `rate` when given, else at half the lower P1."""
    release = release_at(stack.paths.home, print, commit=against)
    later = release_at(stack.paths.home, print, commit=to) if to else None
    settings = dict(to_env or {})
    later_name = " ".join([later.label if later else TODAY, *(f"{key}={value}" for key, value in settings.items())])
    sides = [Side(release.label, release), Side(later_name, later, settings)]
    stack.up_services(print, extra_env=MEASURING)  # the agencies' defaults are set through the services' APIs
    pipeline = Pipeline.on(stack, use_directory_defaults(stack))
    intake_url = stack.base_url("intake")

    def fresh(side: Side, number: int, what: str) -> None:
        print(f"  round {number}/{rounds}, {side.name}: restarting the services from its code for {what} …", flush=True)
        for service in SERVICE_PORTS:
            stack.restart_service(service, {**MEASURING, **side.env}, release=side.release)

    try:
        for number in range(1, rounds + 1):
            p1: dict[str, float] = {}
            for side in sides:
                fresh(side, number, "P1 and C1")
                p1[side.name] = asyncio.run(_throughput(side, pipeline, consultations))
            at = common_rate(p1, rate)
            for side in sides:
                fresh(side, number, f"L1 and L3 at {at:.1f}/s")
                asyncio.run(_latencies(side, pipeline, intake_url, at, seconds))
                print(f"    {_summary(side)}", flush=True)
    finally:
        print("  restarting today's services with their usual settings …", flush=True)
        stack.restart_services({})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    result: dict[str, Any] = {
        "when": stamp,
        "against": release.commit,
        "to": later.commit if later else TODAY,
        "to_env": settings,
        "rounds": rounds,
        "consultations": consultations,
        "rate": rate if rate is not None else "half of the lower P1 of each round",
        "sides": {side.name: side.rounds for side in sides},
    }
    (out / f"ab-{stamp}.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    table = markdown(sides[0], sides[1], rounds=rounds, consultations=consultations, rate=rate)
    written = out / f"ab-{stamp}.md"
    written.write_text(table, encoding="utf-8")
    print(table)
    return written


async def _throughput(side: Side, pipeline: Pipeline, consultations: int) -> float:
    p1, used = await pipeline.metered_throughput(consultations)
    cpu = used.per_item_ms(consultations)
    side.add("P1", p1)
    side.add("C1 backbone CPU per consultation", cpu["backbone"])
    side.add("C1 load generator CPU per consultation", cpu.get(LOAD_GENERATOR, 0.0))
    for group, ms in cpu.items():
        if group not in {"backbone", LOAD_GENERATOR}:
            side.add(f"{GROUP_PREFIX}{group}", ms)
    return p1


async def _latencies(side: Side, pipeline: Pipeline, intake_url: str, rate: float, seconds: float) -> None:
    side.add("L1 and L3 rate", rate)
    l1 = await pipeline.latency(rate, seconds)
    side.add("L1 p50", l1["p50"])
    side.add("L1 p99", l1["p99"])
    for hop in HOPS:
        side.add(f"{HOP_PREFIX}{hop} p50", l1[f"{hop} p50"])
    l3 = await intake_post_latency(intake_url, pipeline.token, rate=rate, seconds=seconds)
    side.add("L3 intake POST p50", l3["p50"])
    side.add("L3 intake POST p99", l3["p99"])
    side.add("L3 load generator CPU per request", l3["load generator CPU ms/request"])


def _summary(side: Side) -> str:
    return ", ".join(f"{name} {values[-1]:g}" for name, values in side.rounds.items() if name in dict(FIGURES))


def markdown(before: Side, after: Side, *, rounds: int, consultations: int, rate: float | None = None) -> str:
    at = f"a fixed {rate:g} consultations/s" if rate is not None else "half of the lower of the round's two P1"
    lines = [
        f"{before.name} against {after.name}: {rounds} alternating rounds of {consultations} consultations each"
        f" in P1, then L1 and L3 at one rate for both sides, {at}; medians of the rounds."
        " The ratio is the second's over the first's.",
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
