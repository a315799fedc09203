"""`backbone faults`: each scenario under load, then the checker; a table and a JSON file of the results.

Per scenario: note where every checked topic ends; submit the scenario's consultations at a fixed rate
(with 1% poison records on the ingress topic); a third of the way in, inject the fault and heal it;
wait for the workload's answers; then wait until every accepted consultation's notification has been
delivered and recorded in the audit ledger (the drain) — the recovery time is from the later of the heal
and the last answer to the drain — and run the checker.

The services run with 30-day urgent windows meanwhile, as in the benchmark: nobody answers these
referrals, and they must not escalate in the middle of later runs.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import mailbox
import time
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from backbone.kafka import create_producer
from backbone.settings import KafkaSettings
from devtools.faults import checker
from devtools.faults.scenarios import SERVICES, Scenario, catalogue
from devtools.faults.workload import Workload
from devtools.local.cluster import LocalKafkaCluster
from devtools.local.ha_postgres import LocalHaPostgres
from devtools.local.operators import issue_agency_token, use_directory_defaults
from devtools.local.replication import ensure_replicated_topics
from devtools.local.stack import MEASURING, LocalStack
from schemas.vocabulary import AgencyType

SUBMITTER = ("chiku-fukushi-tsujido", AgencyType.DISTRICT_WELFARE_COUNTER)
QUICK = (
    "baseline",
    "kill-referral",
    "kill-notify",
    "term-intake",
    "broker-kill",
    "postgres-kill",
    "zombie",
    "scale",
    "smtp-down",
    "db-cutoff",
    "broker-cutoff",
    "upgrade-producers-first",
    "upgrade-consumers-first",
    "cluster-broker-kill",
    "postgres-failover",
)


@dataclass(frozen=True)
class Plan:
    consultations: int  # per scenario
    rate: float  # consultations per second
    outage: float  # seconds a broken broker, database or SMTP server stays down
    drain_budget: float  # seconds after healing within which everything must be delivered
    poison_share: float = 0.01


@dataclass
class Outcome:
    scenario: str
    what: str
    events: int
    accepted: int
    refused: int
    lost: int
    duplicates: int
    transport_duplicates: int
    order_violations: int
    phantoms: int
    poison: str
    recovery_seconds: float | None
    passed: bool
    detail: dict[str, Any]


def run_faults(
    stack: LocalStack, plan: Plan, only: list[str] | None, out: Path, seed: int, *, upgrade_from: str | None = None
) -> tuple[Path, bool]:
    """Run the chosen scenarios (all when `only` is None); the upgrade scenarios start from `upgrade_from`, a
    commit, when given, else from the release before the latest contract change."""
    chosen = [s for s in catalogue(upgrade_from) if only is None or s.name in only]
    unknown = set(only or ()) - {s.name for s in catalogue()}
    if unknown:
        names = ", ".join(s.name for s in catalogue())
        raise SystemExit(f"unknown scenario(s): {', '.join(sorted(unknown))}. Choose from: {names}")
    print("  restarting the services with 30-day urgent windows …", flush=True)
    stack.restart_services(MEASURING)
    answerers = use_directory_defaults(stack)
    token = issue_agency_token(stack, *SUBMITTER)
    outcomes: list[Outcome] = []
    try:
        for number, scenario in enumerate(chosen, 1):
            print(f"[{number}/{len(chosen)}] {scenario.name}: {scenario.what} …", flush=True)
            if scenario.on_pair:
                outcome = _on_the_pair(stack, scenario, plan, seed + number)
            elif scenario.on_cluster:
                outcome = _on_the_cluster(stack, scenario, plan, token, answerers=answerers, seed=seed + number)
            else:
                outcome = asyncio.run(_one(stack, scenario, plan, token, answerers=answerers, seed=seed + number))
            outcomes.append(outcome)
            print(f"    {_line(outcome)}", flush=True)
            stack.up_services(lambda _line: None, extra_env=MEASURING)  # in case a fault left one down
    finally:
        print("  restarting the services with their usual settings …", flush=True)
        stack.restart_services({})
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out.mkdir(parents=True, exist_ok=True)
    (out / f"faults-{stamp}.json").write_text(
        json.dumps({"plan": asdict(plan), "outcomes": [asdict(o) for o in outcomes]}, indent=2), encoding="utf-8"
    )
    table = markdown(outcomes, plan)
    written = out / f"faults-{stamp}.md"
    written.write_text(table, encoding="utf-8")
    print(table)
    return written, all(o.passed for o in outcomes)


def _on_the_pair(stack: LocalStack, scenario: Scenario, plan: Plan, seed: int) -> Outcome:
    """A scenario whose services run against the PostgreSQL pair: the pair started, the services restarted on it
    (with agencies and tokens of its own databases), and afterwards moved back to the single server."""
    pair = LocalHaPostgres(stack.paths)
    on_pair = dataclasses.replace(stack, ha=pair)
    print(f"    {pair.start(lambda line: print(f'    {line}', flush=True))}", flush=True)
    try:
        on_pair.restart_services(MEASURING)
        answerers = use_directory_defaults(on_pair)
        token = issue_agency_token(on_pair, *SUBMITTER)
        return asyncio.run(_one(on_pair, scenario, plan, token, answerers=answerers, seed=seed))
    finally:
        stack.restart_services(MEASURING)
        print(f"    {pair.stop()}", flush=True)


def _on_the_cluster(
    stack: LocalStack, scenario: Scenario, plan: Plan, token: str, *, answerers: dict[str, str], seed: int
) -> Outcome:
    """A scenario whose services use the three-broker cluster: it started with the backbone's topics
    replicated three times, the services restarted on it, and afterwards moved back to the single broker."""
    cluster = LocalKafkaCluster(stack.paths.cluster)
    on_cluster = dataclasses.replace(stack, kafka_cluster=cluster)
    for line in cluster.start():
        print(f"    {line}", flush=True)
    asyncio.run(ensure_replicated_topics(cluster.bootstrap_servers))
    try:
        on_cluster.restart_services(MEASURING)
        return asyncio.run(_one(on_cluster, scenario, plan, token, answerers=answerers, seed=seed))
    finally:
        stack.restart_services(MEASURING)
        for line in cluster.stop():
            print(f"    {line}", flush=True)


async def _one(
    stack: LocalStack, scenario: Scenario, plan: Plan, token: str, *, answerers: dict[str, str], seed: int
) -> Outcome:
    if scenario.setup is not None:
        await scenario.setup(stack)
    try:
        workload = Workload(
            stack.base_url("intake"),
            token,
            run_id=uuid.uuid4().hex[:10],
            seed=seed,
            decline_every=scenario.decline_every,
            referral_url=stack.base_url("referral"),
            answerers=answerers,
        )
        return await _measured(stack, scenario, plan, workload)
    finally:
        if scenario.teardown is not None:
            await scenario.teardown(stack)


async def _measured(stack: LocalStack, scenario: Scenario, plan: Plan, workload: Workload) -> Outcome:
    bootstrap = stack.bootstrap_servers
    dsn = {name: stack.settings_for(name).database.dsn.get_secret_value() for name in SERVICES}
    dbs = checker.Databases(dsn["intake"], dsn["referral"], dsn["notify"], dsn["audit"])
    since = await checker.end_offsets(bootstrap)
    producer = create_producer(KafkaSettings(bootstrap_servers=bootstrap), client_id="faults")
    await producer.start()
    rate = plan.rate if scenario.load_seconds is None else min(plan.rate, plan.consultations / scenario.load_seconds)
    try:
        load = asyncio.create_task(workload.submit(plan.consultations, rate))
        await workload.inject_poison(producer, round(plan.consultations * plan.poison_share))
        await asyncio.sleep(plan.consultations / rate / 3)
        await scenario.fault(stack, plan.outage)
        fault_over = time.monotonic()  # healed, restarted or promoted: each scenario's fault returns then
        await load
        # Recovery is counted from the moment the fault is healed and the last submission was answered.
        healed = time.monotonic()
    finally:
        await producer.stop()
    recovery = await _drain(workload, dbs, healed, plan.drain_budget)
    verdict = await checker.check(workload, dbs, bootstrap, since, mailbox.Maildir(stack.mail.maildir, create=True))
    passed = verdict.passed and recovery is not None
    longest, p99 = workload.answering()
    first_after, met = workload.after(fault_over)
    return Outcome(
        scenario=scenario.name,
        what=scenario.what,
        events=verdict.accepted * 3 + verdict.poison_injected,
        accepted=verdict.accepted,
        refused=verdict.refused,
        lost=verdict.lost,
        duplicates=verdict.duplicates,
        transport_duplicates=sum(verdict.transport_duplicates.values()),
        order_violations=verdict.order_violations,
        phantoms=verdict.phantoms,
        poison=f"{verdict.poison_dead_lettered}/{verdict.poison_injected} (+{verdict.unexpected_dead_letters} other)",
        recovery_seconds=round(recovery, 1) if recovery is not None else None,
        passed=passed,
        detail={
            "missing": dict(verdict.missing),
            "duplicate_effects": dict(verdict.duplicate_effects),
            "unanswered": verdict.unanswered,
            "retried_submissions": sum(1 for item in workload.submitted if item.attempts > 1),
            "declines_by_versions_recorded": dict(verdict.declines),
            "longest_without_acceptance_s": round(longest, 1),
            "p99_answer_ms": round(p99 * 1000),
            "first_acceptance_after_fault_s": None if first_after is None else round(first_after, 1),
            "failed_tries_before_it": met,
        },
    )


async def _drain(workload: Workload, dbs: checker.Databases, healed: float, budget: float) -> float | None:
    """Seconds from the heal until nothing is outstanding; None when the budget ran out first."""
    while time.monotonic() - healed < budget:
        if await checker.outstanding(workload, dbs) == 0:
            return time.monotonic() - healed
        await asyncio.sleep(0.5)
    return None


def _line(o: Outcome) -> str:
    verdict = "PASS" if o.passed else "FAIL"
    recovery = f"{o.recovery_seconds}s" if o.recovery_seconds is not None else "not drained"
    declines = o.detail.get("declines_by_versions_recorded") or {}
    versions = ", ".join(f"{v}: {n}" for v, n in sorted(declines.items()))
    declined = f", declines recorded as {versions}" if declines else ""
    longest, p99 = o.detail.get("longest_without_acceptance_s"), o.detail.get("p99_answer_ms")
    seen = "" if longest is None else f"; agencies saw at most {longest}s without an acceptance, p99 answer {p99} ms"
    first, met = o.detail.get("first_acceptance_after_fault_s"), o.detail.get("failed_tries_before_it") or {}
    if first is not None and first >= 1:
        tries = ", ".join(f"{n} {kind}" for kind, n in sorted(met.items())) or "no failed try"
        seen += f"; the first acceptance came {first}s after the fault was over ({tries} before it)"
    return (
        f"{verdict}: accepted {o.accepted}, refused {o.refused}, lost {o.lost}, duplicates {o.duplicates}"
        f" (transport {o.transport_duplicates}), order {o.order_violations}, phantoms {o.phantoms},"
        f" poison {o.poison}{declined}, recovered in {recovery}{seen}"
    )


def markdown(outcomes: list[Outcome], plan: Plan) -> str:
    lines = [
        f"{plan.consultations} consultations per scenario at {plan.rate:g}/s, 1% poison, outage {plan.outage:g}s,"
        f" drain budget {plan.drain_budget:g}s",
        "",
        "| scenario | events | accepted | refused | lost | duplicate effects | transport duplicates | order | phantoms"
        " | poison dead-lettered | recovery s | result |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {o.scenario} | {o.events} | {o.accepted} | {o.refused} | {o.lost} | {o.duplicates} |"
        f" {o.transport_duplicates} | {o.order_violations} | {o.phantoms} | {o.poison} |"
        f" {o.recovery_seconds if o.recovery_seconds is not None else '—'} | {'pass' if o.passed else 'FAIL'} |"
        for o in outcomes
    ]
    return "\n".join(lines) + "\n"
