"""The soak: the simulated day's workload submitted at a steady rate for hours, with the simulated agencies
answering, and every minute a sample of each process and of the backlogs (sampling.py). At the end: the samples
as CSV, a picture, and the verdict (verdict.py); the exit code says whether it holds.

The rate is "realistic-plus": the default 20 consultations a minute is 28,800 a day, far beyond the city's
hundreds, while leaving the machine mostly idle, so that what grows is the software's, not a queue's.
"""

from __future__ import annotations

import asyncio
import csv
import dataclasses
import os
import signal
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer

from backbone import directory
from backbone.memory_probe import ALLOCATOR_FIGURES
from backbone.settings import ServiceName
from devtools.bench import hops
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import LocalStack
from devtools.simulation import watch, workload
from devtools.simulation.day import PACING, simulated_agencies, submit
from devtools.soak import picture, sampling
from devtools.soak.verdict import Finding, memory_flat, not_growing, windows

SERVICES: tuple[ServiceName, ...] = ("intake", "referral", "meetings", "notify", "audit")
CHUNK_SECONDS = 600.0
"""The workload is generated ten minutes at a time, each chunk a compressed day of its own seed."""


@dataclasses.dataclass(frozen=True)
class Plan:
    hours: float
    rate_per_minute: float
    seed: int
    out: Path
    sample_seconds: float = 60.0
    trace_memory: bool = False
    """Run the services with tracemalloc and have each say, at the end, which source lines' memory grew since
    the warm-up ended (backbone/memory_probe.py); slower, so for finding a leak, not for the figures."""

    @property
    def memory(self) -> Path:
        """Where the services write what their allocators hold (backbone/memory_probe.py)."""
        return self.out / "memory"

    @property
    def warmup_minutes(self) -> float:
        """The first sixth of the run, at most 20 minutes: caches fill, pools open, the JIT-less interpreter's
        allocator finds its size."""
        return min(20.0, self.hours * 60 / 6)

    @property
    def window_minutes(self) -> float:
        return min(15.0, self.hours * 60 / 6)


def run_soak(stack: LocalStack, plan: Plan) -> int:
    stack.set_world_aside(print)
    stack.up_infrastructure(print)
    # The allocators' figures cost a millisecond a minute; tracemalloc costs far more, so only when asked.
    probe = {"BACKBONE_MEMORY_PROBE": str(plan.memory)} | ({"PYTHONTRACEMALLOC": "8"} if plan.trace_memory else {})
    stack.up_services(print, extra_env=PACING | probe)
    return asyncio.run(_soak(stack, plan))


def _processes(stack: LocalStack) -> dict[str, Callable[[], list[int]]]:
    """Each sampled process (or tree), by name: found again at every sample, so a restart would show."""

    def one(pid: Callable[[], int | None]) -> Callable[[], list[int]]:
        # With its children: Keycloak's JVM runs under its start script.
        return lambda: sampling.process_tree(p) if (p := pid()) else []

    def postgres() -> list[int]:
        pid_file = stack.postgres.data_dir / "postmaster.pid"
        return sampling.process_tree(int(pid_file.read_text().split()[0])) if pid_file.exists() else []

    named: dict[str, Callable[[], list[int]]] = {s: one(stack.process(s).pid) for s in SERVICES}
    named["workbench"] = one(stack.workbench_process.pid)
    named["kafka"] = one(stack.kafka.process.pid)
    named["postgresql"] = postgres
    named["keycloak"] = one(stack.keycloak.process.pid)
    named["mail catcher"] = one(stack.mail.process.pid)
    return named


async def _soak(stack: LocalStack, plan: Plan) -> int:
    loaded = directory.load()
    tokens, urls, agencies = await simulated_agencies(stack, loaded, plan.seed)
    consumer, _ = await watch.watch(stack.kafka.bootstrap_servers)
    tally = watch.Tally(cases=agencies.cases)
    audit = await asyncpg.connect(stack.postgres.dsn("audit", LocalSecrets.load_or_create(stack.paths.secrets)))
    processes = _processes(stack)
    plan.out.mkdir(parents=True, exist_ok=True)
    samples = plan.out / "samples.csv"
    total = plan.hours * 3600
    print(
        f"\nsoak: {plan.rate_per_minute:g} consultations a minute for {plan.hours:g} h, a sample every "
        f"{plan.sample_seconds:g} s into {samples}\n"
    )
    intake = f"{urls['intake']}/v1/consultations"
    scraped = {service: stack.base_url(service) for service in SERVICES}  # each one's /metrics
    began, began_at = time.monotonic(), datetime.now(UTC)
    submitted = chunk = 0
    pending: list[workload.Consultation] = []
    next_sample = 0.0
    async with httpx.AsyncClient(timeout=30) as http:
        with samples.open("w", newline="") as sink:
            writer = csv.writer(sink)
            writer.writerow(["minute", "subject", "figure", "value"])
            while (now := time.monotonic() - began) < total:
                if not pending:
                    pending = _chunk(loaded, plan, chunk, offset=chunk * CHUNK_SECONDS)
                    chunk += 1
                while pending and pending[0].at <= now:
                    submitted += await submit(http, intake, tokens, pending.pop(0), agencies)
                await agencies.work(http)
                await watch.drain(consumer, tally)
                if now >= next_sample:
                    if plan.trace_memory and now / 60 >= plan.warmup_minutes > (now - plan.sample_seconds) / 60:
                        _signal_services(stack, signal.SIGUSR1)  # tracemalloc's baseline, as the warm-up ends
                    _signal_services(stack, signal.SIGUSR2)  # each writes its allocators' figures
                    rows = await _sample(now / 60, processes, http, scraped, audit)
                    rows += _allocators(now / 60, plan.memory)
                    writer.writerows(rows)
                    sink.flush()
                    print(_progress(now / 60, plan, submitted, tally, rows), flush=True)
                    next_sample += plan.sample_seconds
                await asyncio.sleep(1.0)
    ended_at = datetime.now(UTC)
    if plan.trace_memory:
        _signal_services(stack, signal.SIGUSR1)  # what grew since the baseline
    await _settle(consumer, tally, submitted)
    await audit.close()
    findings = judge(samples, plan)
    report = _report(
        plan,
        submitted,
        tally.count("consultation.received"),
        findings,
        picture.draw(samples, plan.out / "soak.png", title=_title(plan, submitted)),
        cluster_files=sampling.relation_files(stack.postgres.data_dir),
        transport_errors=agencies.transport_errors,
        way=await ways_report(stack, plan, began_at, ended_at),
    )
    (plan.out / "report.md").write_text(report)
    print("\n" + report)
    every_one_received = tally.count("consultation.received") == submitted
    return 0 if every_one_received and all(f.ok for f in findings) else 1


async def _settle(consumer: AIOKafkaConsumer, tally: watch.Tally, submitted: int) -> None:
    """Wait a minute at most for the last submissions' events, then let the topics go."""
    settled = time.monotonic() + 60
    while tally.count("consultation.received") < submitted and time.monotonic() < settled:
        await watch.drain(consumer, tally)
        await asyncio.sleep(0.5)
    await consumer.stop()


def _signal_services(stack: LocalStack, signum: signal.Signals) -> None:
    """SIGUSR1 (where Python's memory grew) or SIGUSR2 (what the allocators hold) to every service: each writes
    its answer under `Plan.memory` (backbone/memory_probe.py)."""
    for service in SERVICES:
        if (pid := stack.process(service).pid()) is not None:
            os.kill(pid, signum)


def _allocators(minute: float, directory: Path) -> list[tuple[float, str, str, float]]:
    """Each service's latest allocator figures (written on the SIGUSR2 sent before this sample's other work),
    in MiB; a service whose row is not there yet, or is a minute old, is left out of this sample."""
    rows: list[tuple[float, str, str, float]] = []
    for service in SERVICES:
        files = sorted(directory.glob(f"{service}-*-allocators.csv"), key=lambda f: f.stat().st_mtime)
        if not files or time.time() - files[-1].stat().st_mtime > 30:
            continue
        with files[-1].open() as source:
            last = list(csv.DictReader(source))[-1]
        mib = {name: int(value) / 2**20 for name, value in last.items() if name in ALLOCATOR_FIGURES}
        kept_free = mib["pymalloc_free"] + mib["malloc_free"]
        rows += [(minute, service, f"{name}_mib", round(value, 2)) for name, value in mib.items()]
        rows += [(minute, service, "allocators_free_mib", round(kept_free, 2))]
        rows += [(minute, service, "full_collections", int(last["full_collections"]))]
    return [(round(m, 2), s, f, v) for m, s, f, v in rows]


def _chunk(loaded: directory.Directory, plan: Plan, index: int, *, offset: float) -> list[workload.Consultation]:
    """Ten minutes of the workload, shifted to their place in the run; keys prefixed so that no chunk's
    household joins another's by accident."""
    count = max(1, round(plan.rate_per_minute * CHUNK_SECONDS / 60))
    day = workload.generate(loaded, seed=plan.seed + index, count=count, day_seconds=CHUNK_SECONDS)
    return [
        dataclasses.replace(
            c,
            at=c.at + offset,
            key=f"{index}/{c.key}",
            household_of=f"{index}/{c.household_of}" if c.household_of else c.household_of,
        )
        for c in day
    ]


async def _sample(
    minute: float,
    processes: dict[str, Callable[[], list[int]]],
    http: httpx.AsyncClient,
    urls: dict[ServiceName, str],
    audit: asyncpg.Connection,
) -> list[tuple[float, str, str, float]]:
    rows: list[tuple[float, str, str, float]] = []
    for name, pids in processes.items():
        each = sampling.figures(pids())
        rows += [
            (minute, name, "pss_mib", round(each.pss_bytes / 2**20, 1)),
            (minute, name, "private_mib", round(each.private_bytes / 2**20, 1)),
            (minute, name, "shared_mib", round(each.shared_bytes / 2**20, 1)),
            (minute, name, "fds", each.fds),
            (minute, name, "relation_fds", each.relation_fds),
            (minute, name, "processes", each.processes),
            (minute, name, "sockets", each.sockets),
        ]
    for service, url in urls.items():
        try:
            page = (await http.get(f"{url}/metrics")).text
        except httpx.HTTPError:
            continue  # a gap in the plot, and the verdict's windows average over it
        figures = sampling.service_figures(page)
        rows += [(minute, service, "consumer_lag", figures.consumer_lag)]
        rows += [(minute, service, "outbox_backlog", figures.outbox_backlog)]
    ledger = await audit.fetchrow("SELECT max(seq) AS rows, pg_total_relation_size('ledger') AS bytes FROM ledger")
    assert ledger is not None
    rows += [(minute, "audit", "ledger_rows", ledger["rows"] or 0)]
    rows += [(minute, "audit", "ledger_mib", round(ledger["bytes"] / 2**20, 1))]
    return [(round(m, 2), s, f, v) for m, s, f, v in rows]


def judge(samples: Path, plan: Plan) -> list[Finding]:
    """Private memory of every process flat after warm-up; consumer lag and outbox backlog of every service not
    growing.

    Descriptors, sockets and processes not growing either; PostgreSQL's descriptors without those on relation
    files, its backends' cache (sampling.py), so that a leak of anything else is not hidden by the cache's sawing.

    Reported, not judged: the ledger, which grows with the work by design (one row per event, kept for the
    auditors); PSS in all, whose shared part is PostgreSQL's buffer pool filling up to `shared_buffers` as the
    ledger and the outboxes are written (sampling.py); the relation files held open, bounded by the files the
    cluster has, which the report gives beside them; and the allocators' figures, which say where a growth
    of private memory is when there is one."""
    findings = []
    shape = {"warmup": plan.warmup_minutes, "window": plan.window_minutes}
    counts = shape | {"slack": 20, "relative": 0.1}
    series = _series(samples)
    for (subject, figure), (minutes, values) in sorted(series.items()):
        if figure == "private_mib":
            findings.append(memory_flat(f"{subject} memory (private MiB)", minutes, values, **shape))
        elif figure == "fds" and (relations := series.get((subject, "relation_fds"))) and any(relations[1]):
            others = [v - r for v, r in zip(values, relations[1], strict=True)]
            findings.append(not_growing(f"{subject} fds (relation files aside)", minutes, others, **counts))
        elif figure == "fds":
            findings.append(not_growing(f"{subject} fds", minutes, values, **counts))
        elif figure in ("sockets", "processes"):
            findings.append(not_growing(f"{subject} {figure}", minutes, values, **counts))
        elif figure in ("consumer_lag", "outbox_backlog"):
            findings.append(not_growing(f"{subject} {figure.replace('_', ' ')}", minutes, values, **shape, slack=50))
    return findings


def _series(samples: Path) -> dict[tuple[str, str], tuple[list[float], list[float]]]:
    """(subject, figure) → (minutes, values), from the samples file."""
    series: dict[tuple[str, str], tuple[list[float], list[float]]] = {}
    with samples.open() as source:
        for row in csv.DictReader(source):
            minutes, values = series.setdefault((row["subject"], row["figure"]), ([], []))
            minutes.append(float(row["minute"]))
            values.append(float(row["value"]))
    return series


def where_memory_is(samples: Path, plan: Plan) -> list[str]:
    """A table, for the report: each process's PSS and its shared part, and each service's allocators, in the
    first window after warm-up and in the last (the same windows as the verdict's)."""
    figures = ("pss_mib", "shared_mib", *(f"{name}_mib" for name in ALLOCATOR_FIGURES))
    lines = ["| process | figure (MiB) | first window | last window |", "|---|---|---:|---:|"]
    for (subject, figure), (minutes, values) in sorted(_series(samples).items()):
        means = windows(minutes, values, warmup=plan.warmup_minutes, window=plan.window_minutes)
        if figure in figures and means is not None and max(means) > 0:
            lines.append(f"| {subject} | {figure.removesuffix('_mib')} | {means[0]:,.1f} | {means[1]:,.1f} |")
    return lines


def relation_files_held(samples: Path, plan: Plan) -> list[str]:
    """A table, for the report: the relation files PostgreSQL's backends held open and how many processes there
    were, in the verdict's two windows."""
    lines = ["| figure | first window | last window |", "|---|---:|---:|"]
    series = _series(samples)
    for figure, label in (("relation_fds", "relation files held open, all backends"), ("processes", "processes")):
        minutes, values = series.get(("postgresql", figure), ([], []))
        if (means := windows(minutes, values, warmup=plan.warmup_minutes, window=plan.window_minutes)) is not None:
            lines.append(f"| {label} | {means[0]:,.0f} | {means[1]:,.0f} |")
    return lines


async def ways_report(stack: LocalStack, plan: Plan, began_at: datetime, ended_at: datetime) -> list[str]:
    """Each hop's p50 and p95 from intake's transaction to the e-mail (devtools/bench/hops.py), in the first window
    after the warm-up and in the last: a queue that grows shows here before it shows in memory."""
    if ended_at - began_at < timedelta(minutes=plan.warmup_minutes + 2 * plan.window_minutes):
        return ["The run was too short for two windows after the warm-up."]
    first_from = began_at + timedelta(minutes=plan.warmup_minutes)
    spans = {
        "first window": (first_from, first_from + timedelta(minutes=plan.window_minutes)),
        "last window": (ended_at - timedelta(minutes=plan.window_minutes), ended_at),
    }
    dsns = hops.databases(stack)
    figures = {name: await hops.ways_between(dsns, *span) for name, span in spans.items()}
    by_window = {name: hops.hop_percentiles(found, hops.HOPS[1:]) for name, found in figures.items()}
    lines = [
        "From intake's transaction to the e-mail's acceptance by the SMTP server, for the consultations that proposed"
        f" a referral ({', '.join(f'{len(found):,} in the {name}' for name, found in figures.items())}), in ms.",
        "",
        "| hop | first window p50 | p95 | last window p50 | p95 |",
        "|---|---:|---:|---:|---:|",
    ]
    for hop in hops.HOPS[1:]:
        first, last = (by_window[name][hop] for name in spans)
        lines.append(f"| {hop} | {first['p50']:,.1f} | {first['p95']:,.1f} | {last['p50']:,.1f} | {last['p95']:,.1f} |")
    return lines


def _progress(
    minute: float, plan: Plan, submitted: int, tally: watch.Tally, rows: list[tuple[float, str, str, float]]
) -> str:
    private = sum(v for _, s, f, v in rows if f == "private_mib")
    lag = sum(v for _, _, f, v in rows if f == "consumer_lag")
    backlog = sum(v for _, _, f, v in rows if f == "outbox_backlog")
    ledger = next((v for _, _, f, v in rows if f == "ledger_rows"), 0)
    return (
        f"[{minute:6.1f} / {plan.hours * 60:g} min] submitted {submitted:,}, received "
        f"{tally.count('consultation.received'):,} · private memory {private:,.0f} MiB in all · lag {lag:,.0f} · "
        f"outbox {backlog:,.0f} · ledger {ledger:,.0f} rows"
    )


def _title(plan: Plan, submitted: int) -> str:
    day = datetime.now(UTC).strftime("%Y-%m-%d")
    return f"backbone soak {day}: {plan.hours:g} h, {plan.rate_per_minute:g}/min, {submitted:,} consultations"


def _report(
    plan: Plan,
    submitted: int,
    received: int,
    findings: list[Finding],
    png: Path,
    *,
    cluster_files: int,
    transport_errors: Counter[str],
    way: list[str],
) -> str:
    held = sum(f.ok for f in findings)
    too_short = [f for f in findings if f.rule.startswith("run too short")]
    judged = (
        [
            f"The run was too short to judge: it needs the {plan.warmup_minutes:g}-minute warm-up and two windows of "
            f"{plan.window_minutes:g} minutes at a sample a minute (`--hours 0.5` or more)."
        ]
        if too_short
        else [
            "| series | first window | last window | holds | rule |",
            "|---|---:|---:|---|---|",
            *(
                f"| {f.series} | {f.first:,.1f} | {f.last:,.1f} | {'yes' if f.ok else 'NO'} | {f.rule} |"
                for f in findings
            ),
        ]
    )
    lines = [
        f"# Soak: {plan.hours:g} h at {plan.rate_per_minute:g} consultations a minute",
        "",
        f"- submitted {submitted:,}, received (ConsultationReceived on the topic) {received:,}",
        f"- warm-up {plan.warmup_minutes:g} min; each verdict compares the first {plan.window_minutes:g} min after"
        f" it with the last {plan.window_minutes:g} min",
        f"- picture: {png}",
        "- requests of the simulated agencies that met a transport error (each ended that agency's round, and the"
        f" next round tried again): {', '.join(f'{n} {e}' for e, n in sorted(transport_errors.items())) or 'none'}",
        *([f"- where memory grew (tracemalloc, by source line): {plan.out / 'memory'}"] if plan.trace_memory else []),
        f"- verdict: {held} of {len(findings)} hold",
        "",
        *judged,
        "",
        "## Where the memory is (reported, not judged)",
        "",
        *where_memory_is(plan.out / "samples.csv", plan),
        "",
        "## PostgreSQL's relation files held open (reported, not judged)",
        "",
        *relation_files_held(plan.out / "samples.csv", plan),
        "",
        f"The cluster has {cluster_files:,} relation files; each backend holds at most its own database's and the"
        " shared catalogs'.",
        "",
        "## A consultation's way, hop by hop (reported, not judged)",
        "",
        *way,
    ]
    return "\n".join(lines) + "\n"
