"""`backbone bench`: every figure at least three times, baselines in the same run, JSON and Markdown out."""

from __future__ import annotations

import asyncio
import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backbone.bench import baselines, stages
from backbone.bench.measure import Figure, repeat
from backbone.local.operators import issue_agency_token
from backbone.local.postgres import LocalSecrets
from backbone.local.stack import LocalStack
from schemas.vocabulary import AgencyType

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
    scale = {"kafka": 20_000, "pg": 8_000, "p2": 10_000, "ledger": 1_000_000, "queries": 300, "l3": 15.0}
    if quick:
        scale = {"kafka": 5_000, "pg": 2_000, "p2": 2_000, "ledger": 100_000, "queries": 100, "l3": 5.0}
    dsn = stack.postgres.dsn("tests", LocalSecrets.load_or_create(stack.paths.secrets))
    bootstrap = stack.kafka.bootstrap_servers
    token = issue_agency_token(stack, "chiku-fukushi-katase", AgencyType.DISTRICT_WELFARE_COUNTER)
    figures = asyncio.run(_measure(stack, dsn, bootstrap, token, scale))
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


async def _measure(stack: LocalStack, dsn: str, bootstrap: str, token: str, scale: dict[str, Any]) -> list[Figure]:
    await stages.ensure_bench_topic(bootstrap)
    report: list[Figure] = []

    async def step(name: str, unit: str, once: Any) -> Figure:
        print(f"  measuring {name} …", flush=True)
        figure = await repeat(name, unit, REPETITIONS, once)
        report.append(figure)
        return figure

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
    p2.extra["ratio_to_B2"] = round(p2.median / b2.median, 3) if b2.median else None
    print(f"  building a ledger of {scale['ledger']:,} events (reused when it exists) …", flush=True)
    schema, cases = await stages.build_ledger(dsn, scale["ledger"])
    latencies = [await stages.trace_query_latency(dsn, schema, cases, scale["queries"]) for _ in range(REPETITIONS)]
    q1 = Figure(
        f"Q1 case timeline on a {scale['ledger']:,}-event ledger (p99)",
        "ms",
        [run["p99"] for run in latencies],
        {"p50": [run["p50"] for run in latencies]},
    )
    report.append(q1)
    l3_runs = [
        await stages.intake_post_latency(stack.base_url("intake"), token, rate=200, seconds=scale["l3"])
        for _ in range(REPETITIONS)
    ]
    report.append(
        Figure(
            "L3 intake POST at 200 req/s (p99)",
            "ms",
            [run["p99"] for run in l3_runs],
            {
                "p50": [run["p50"] for run in l3_runs],
                "p99.9": [run["p99.9"] for run in l3_runs],
                "errors": [run["errors"] for run in l3_runs],
            },
        )
    )
    b3.extra["note"] = "the P1 goal is 40% of this"
    return report


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
