"""`backbone bench`: every figure at least three times, baselines in the same run, JSON and Markdown out."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import platform
import statistics
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backbone.settings import ServiceName
from devtools.bench import baselines, stages, workbench
from devtools.bench.cpu import LOAD_GENERATOR, CpuUse
from devtools.bench.hops import HOPS
from devtools.bench.measure import Figure, repeat
from devtools.bench.otlp_sink import OtlpSink
from devtools.bench.pipeline import SUBMITTER, Pipeline
from devtools.local.operators import use_directory_defaults
from devtools.local.postgres import LocalSecrets
from devtools.local.stack import MEASURING, LocalStack

REPETITIONS = 3


def machine() -> dict[str, Any]:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    memory = next(
        line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(int(memory) / 2**20, 1),
        "python": platform.python_version(),
    }


def run_bench(stack: LocalStack, *, quick: bool, out: Path) -> Path:
    scale: dict[str, Any] = {
        "b1": 200_000,
        "kafka": 20_000,
        "pg": 8_000,
        "p2": 10_000,
        "p1": 1_000,
        "l1": 30.0,
        "ledger": 1_000_000,
        "queries": 300,
        "l3": 15.0,
        "inbox": 1_000,
        "inbox_requests": 200,
    }
    if quick:
        scale |= {"b1": 50_000, "kafka": 5_000, "pg": 2_000, "p2": 2_000, "p1": 300, "l1": 10.0}
        scale |= {"ledger": 100_000, "queries": 100, "l3": 5.0, "inbox_requests": 100}
    logging.getLogger("faststream").setLevel(logging.WARNING)  # P2's consumer would log every record
    dsn = stack.postgres.dsn("tests", LocalSecrets.load_or_create(stack.paths.secrets))
    # Started (or restarted) first: the directory's defaults are restored through the services' APIs.
    print("  restarting the services with the benchmark's windows (urgent answers and acknowledgements: 30 days) …")
    stack.restart_services(MEASURING, print)
    tokens = use_directory_defaults(stack)
    try:
        figures = asyncio.run(_measure(stack, dsn, tokens, scale))
    finally:
        print("  restarting the services with their usual settings …")
        stack.restart_services({}, print)
    described = machine()
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    result = {
        "when": stamp,
        "machine": machine(),
        "scale": scale,
        "repetitions": REPETITIONS,
        "figures": {f.name: f.as_dict() for f in figures},
    }
    (out / f"bench-{stamp}.json").write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    table = markdown(figures, described)
    markdown_file = out / f"bench-{stamp}.md"
    markdown_file.write_text(table, encoding="utf-8")
    print(table)
    return markdown_file


async def _measure(stack: LocalStack, dsn: str, tokens: dict[str, str], scale: dict[str, Any]) -> list[Figure]:
    bootstrap = stack.kafka.bootstrap_servers
    await stages.ensure_bench_topic(bootstrap)
    report: list[Figure] = []

    async def step(name: str, unit: str, once: Any) -> Figure:
        print(f"  measuring {name} …", flush=True)
        figure = await repeat(name, unit, REPETITIONS, once)
        report.append(figure)
        return figure

    libs = stack.kafka.ensure_jars()
    b1 = await step(
        "B1 Kafka ProducerPerformance (1 KB, acks=all, idempotent)",
        "records/s",
        lambda: baselines.kafka_producer_tool(libs, bootstrap, stages.BENCH_TOPIC.name, scale["b1"]),
    )
    b2 = await step(
        "B2 aiokafka round trip",
        "records/s",
        lambda: baselines.kafka_round_trip(bootstrap, stages.BENCH_TOPIC.name, scale["kafka"]),
    )
    b3 = await step(
        "B3 PostgreSQL outbox-shaped transactions (8 connections)",
        "tx/s",
        lambda: baselines.outbox_transactions(dsn, scale["pg"]),
    )
    p2 = await step(
        "P2 relay + consume stage (kit)", "events/s", lambda: stages.relay_and_consume(dsn, bootstrap, scale["p2"])
    )
    p2.extra["ratio_to_B2"] = _ratio(p2, b2)
    a1 = await step(
        "A1 relay + audit's recording (hash, chain, sign, append)",
        "events/s",
        lambda: stages.relay_and_record(dsn, bootstrap, scale["p2"]),
    )
    a1.extra["ratio_to_P2"] = _ratio(a1, p2)
    # Before P1, whose consultations are left open in the same centre's inbox, so that W1 sees the count it asks for.
    print(f"  measuring W0/W1, the inbox with {scale['inbox']:,} open referrals …", flush=True)
    report.extend(
        await workbench.inbox_page(
            stack, tokens, open_referrals=scale["inbox"], requests=scale["inbox_requests"], repetitions=REPETITIONS
        )
    )
    pipeline = Pipeline.on(stack, tokens)
    cpu_runs: list[CpuUse] = []

    async def p1_once() -> float:
        rate, used = await pipeline.metered_throughput(scale["p1"])
        cpu_runs.append(used)
        return rate

    p1 = await step("P1 consultations submitted → notifications delivered", "consultations/s", p1_once)
    p1.extra["ratio_to_B3"] = _ratio(p1, b3)
    report.append(_cpu_figure(cpu_runs, scale["p1"]))
    l1_runs = [await pipeline.latency(p1.median / 2, scale["l1"]) for _ in range(REPETITIONS)]
    l1 = _latency_figure(f"L1 submission → notification delivered at {p1.median / 2:,.0f}/s", l1_runs)
    l1.extra["hops p50 / p99 ms"] = {
        hop: [round(statistics.median(run[f"{hop} {name}"] for run in l1_runs), 1) for name in ("p50", "p99")]
        for hop in HOPS
    }
    report.append(l1)
    report.extend(await _tracing_cost(stack, pipeline, scale["p1"]))
    report.append(await _scaled_out(stack, pipeline, scale["p1"], p1))
    print(f"  building a ledger of {scale['ledger']:,} events (reused when it exists) …", flush=True)
    schema, cases = await stages.build_ledger(dsn, scale["ledger"])
    latencies = [await stages.trace_query_latency(dsn, schema, cases, scale["queries"]) for _ in range(REPETITIONS)]
    report.append(_latency_figure(f"Q1 case timeline on a {scale['ledger']:,}-event ledger", latencies))
    # At half of P1, as L1: a rate the machine can sustain, so that the latency says something about the edge.
    l3_rate = p1.median / 2
    l3_runs = [
        await stages.intake_post_latency(stack.base_url("intake"), tokens[SUBMITTER], rate=l3_rate, seconds=scale["l3"])
        for _ in range(REPETITIONS)
    ]
    report.append(_latency_figure(f"L3 intake POST at {l3_rate:,.0f}/s (half of P1)", l3_runs))
    b1.extra["note"] = "the JVM client's ceiling; B2 is Python's"
    return report


async def _tracing_cost(stack: LocalStack, pipeline: Pipeline, count: int) -> list[Figure]:
    """O1: P1 with every span exported over OTLP/HTTP, against the OpenTelemetry SDK disabled.

    The two settings alternate (on, off, on, off, …), each after a fresh start of the services, so that
    neither is favoured by running first or by the data that earlier runs left behind.
    """
    async with OtlpSink() as sink:
        modes = {
            "tracing on (OTLP export)": {"BACKBONE_TELEMETRY__OTLP_ENDPOINT": sink.endpoint},
            "tracing off (OTEL_SDK_DISABLED)": {"OTEL_SDK_DISABLED": "true"},
        }
        figures = {label: Figure(f"O1 P1 with {label}", "consultations/s") for label in modes}
        for _ in range(REPETITIONS):
            for label, env in modes.items():
                print(f"  restarting the services with {label} …", flush=True)
                await asyncio.to_thread(stack.restart_services, MEASURING | env, print)
                figures[label].runs.append(await pipeline.throughput(count))
        on, off = figures.values()
        on.extra |= {"spans_exported_bytes": sink.bytes, "exports": sink.exports}
    off.extra["tracing_cost"] = f"{(1 - on.median / off.median) * 100:.1f}%" if off.median else None
    return [on, off]


SCALED: tuple[ServiceName, ...] = ("referral", "meetings", "notify")


async def _scaled_out(stack: LocalStack, pipeline: Pipeline, count: int, single: Figure) -> Figure:
    """S1: P1 with a second instance of each consumer that can scale (audit's ledger has one writer, and
    intake's second instance would need a load balancer in front of its API)."""
    await asyncio.to_thread(stack.restart_services, MEASURING, print)
    for service in SCALED:
        print(f"  starting a second instance of {service} …", flush=True)
        await asyncio.to_thread(stack.start_instance, service, 2, extra_env=MEASURING)
    try:
        await asyncio.sleep(5)  # the groups rebalance over both instances
        figure = await repeat(
            "S1 P1 with two instances of referral, meetings and notify",
            "consultations/s",
            REPETITIONS,
            lambda: pipeline.throughput(count),
        )
    finally:
        for service in SCALED:
            await asyncio.to_thread(stack.stop_instance, service, 2)
    figure.extra["ratio_to_one_instance"] = _ratio(figure, single)
    return figure


def _cpu_figure(runs: list[CpuUse], consultations: int) -> Figure:
    """C1: the backbone's CPU per consultation in P1 (all its processes), with each group's share and the load
    generator's own beside it, medians of the runs."""
    figure = Figure("C1 CPU per consultation in P1 (services, PostgreSQL, Kafka, SMTP)", "ms")
    per_run = [use.per_item_ms(consultations) for use in runs]
    figure.runs = [ms["backbone"] for ms in per_run]
    groups = sorted({group for ms in per_run for group in ms} - {"backbone"})
    figure.extra["per_group_ms"] = {g: statistics.median(ms.get(g, 0.0) for ms in per_run) for g in groups}
    figure.extra["load_generator_ms"] = figure.extra["per_group_ms"].get(LOAD_GENERATOR, 0.0)
    return figure


def _ratio(figure: Figure, baseline: Figure) -> float | None:
    return round(figure.median / baseline.median, 3) if baseline.median else None


def _latency_figure(name: str, runs: list[dict[str, float]]) -> Figure:
    """p99 as the figure; p50, p99.9 and errors of every run beside it."""
    return Figure(
        f"{name} (p99)",
        "ms",
        [round(run["p99"], 1) for run in runs],
        {
            key: [round(run[key], 1) for run in runs]
            for key in ("p50", "p99.9", "errors", "load generator CPU ms/request")
            if key in runs[0]
        },
    )


def markdown(figures: list[Figure], described: dict[str, Any]) -> str:
    lines = [
        f"Machine: {described['cpu']}, {described['cores']} cores, {described['memory_gib']} GiB, "
        f"Python {described['python']}",
        "",
        "| figure | median | min | max | unit | notes |",
        "|---|---|---|---|---|---|",
    ]
    for figure in figures:
        notes = ", ".join(f"{k} {v}" for k, v in figure.extra.items())
        lines.append(
            f"| {figure.name} | {figure.median:,.1f} | {min(figure.runs):,.1f} | {max(figure.runs):,.1f} | "
            f"{figure.unit} | {notes} |"
        )
    return "\n".join(lines) + "\n"
