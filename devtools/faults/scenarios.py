"""The faults, each one injected while the workload runs and then healed.

A fault is a coroutine: it breaks something, waits, and repairs it the way an operator (or the process
supervisor) would. The suite measures how long the backbone then takes to catch up.
"""

from __future__ import annotations

import asyncio
import functools
import os
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from backbone.settings import ServiceName
from devtools.faults.proxy import TcpProxy
from devtools.local.ha_postgres import LocalHaPostgres
from devtools.local.processes import ended
from devtools.local.releases import release_at
from devtools.local.replication import leaders, partition_states
from devtools.local.stack import MEASURING, LocalStack
from schemas.topics import ALL_TOPICS

SERVICES: tuple[ServiceName, ...] = ("intake", "referral", "meetings", "notify", "audit")
SCALED: tuple[ServiceName, ...] = ("referral", "notify")
# Past aiokafka's default session timeout (10 s): the group gives the paused member's partitions away.
ZOMBIE_PAUSE_SECONDS = 15.0
# Kubernetes' default terminationGracePeriodSeconds: how long a SIGTERMed service may take to stop.
TERMINATION_GRACE_SECONDS = 30.0


@dataclass(frozen=True)
class Scenario:
    name: str
    what: str
    fault: Callable[[LocalStack, float], Awaitable[None]]  # (stack, outage seconds)
    setup: Callable[[LocalStack], Awaitable[None]] | None = None  # before the workload starts
    teardown: Callable[[LocalStack], Awaitable[None]] | None = None  # after the drain and the check
    decline_every: int = 0  # every n-th consultation's first referral is declined by its agency (0: none)
    load_seconds: float | None = None  # spread the consultations over at least this long (a slow fault)
    on_pair: bool = False  # the services run against the PostgreSQL pair (backbone up --ha) for this one
    on_cluster: bool = False  # the services run against the three-broker Kafka cluster for this one


def _pid(stack: LocalStack, service: ServiceName, instance: int = 1) -> int:
    pid = stack.process(service, instance).pid()
    if pid is None:
        raise RuntimeError(f"{service} (instance {instance}) is not running; start it with `backbone up`")
    return pid


async def _restart_missing(stack: LocalStack) -> None:
    await asyncio.to_thread(stack.up_services, lambda _line: None)


async def _wait_gone(pid: int, within: float = 30.0) -> bool:
    """Whether the process ended within the time."""
    for _ in range(int(within / 0.1)):
        if ended(pid):
            return True
        await asyncio.sleep(0.1)
    return False


def kill(service: ServiceName) -> Scenario:
    async def fault(stack: LocalStack, _outage: float) -> None:
        pid = _pid(stack, service)
        os.kill(pid, signal.SIGKILL)
        await _wait_gone(pid)
        await asyncio.sleep(1)
        await _restart_missing(stack)

    return Scenario(f"kill-{service}", f"{service} SIGKILLed mid-batch, restarted", fault)


def terminate(service: ServiceName) -> Scenario:
    async def fault(stack: LocalStack, _outage: float) -> None:
        pid = _pid(stack, service)
        os.kill(pid, signal.SIGTERM)
        if not await _wait_gone(pid, within=TERMINATION_GRACE_SECONDS):
            # What systemd or Kubernetes do when the grace period ends; said aloud, as a stop should not hang.
            grace = TERMINATION_GRACE_SECONDS
            print(f"    {service} did not stop within {grace:.0f}s of SIGTERM; SIGKILLed", flush=True)
            os.kill(pid, signal.SIGKILL)
            await _wait_gone(pid)
        await _restart_missing(stack)

    return Scenario(f"term-{service}", f"{service} SIGTERMed (graceful stop), restarted", fault)


async def _broker_killed(stack: LocalStack, outage: float) -> None:
    pid = stack.kafka.process.pid()
    if pid is None:
        raise RuntimeError("Kafka is not running; start it with `backbone up`")
    os.kill(pid, signal.SIGKILL)
    await _wait_gone(pid)
    await asyncio.sleep(outage)
    await asyncio.to_thread(stack.kafka.start)


async def _broker_restarted(stack: LocalStack, _outage: float) -> None:
    await asyncio.to_thread(stack.kafka.stop)
    await asyncio.to_thread(stack.kafka.start)


async def _postgres_killed(stack: LocalStack, outage: float) -> None:
    postmaster = int((stack.postgres.data_dir / "postmaster.pid").read_text().split()[0])
    os.kill(postmaster, signal.SIGKILL)
    await _wait_gone(postmaster)
    await asyncio.sleep(outage)
    # Its backends notice the postmaster's death and exit; a start before they have would fail.
    for _ in range(29):
        try:
            await asyncio.to_thread(stack.postgres.start)
        except Exception:  # noqa: BLE001 - retried until the old backends are gone
            await asyncio.sleep(1)
        else:
            return
    await asyncio.to_thread(stack.postgres.start)  # the last try: its error is the run's


async def _smtp_down(stack: LocalStack, outage: float) -> None:
    await asyncio.to_thread(stack.mail.stop)
    await asyncio.sleep(outage)
    await asyncio.to_thread(stack.mail.start)


async def _zombie(stack: LocalStack, _outage: float) -> None:
    """referral paused past its session timeout while a second instance takes over, then resumed."""
    await asyncio.to_thread(stack.start_instance, "referral", 2)
    try:
        await asyncio.sleep(5)  # the group rebalances over both
        pid = _pid(stack, "referral")
        os.kill(pid, signal.SIGSTOP)
        try:
            await asyncio.sleep(ZOMBIE_PAUSE_SECONDS)
        finally:
            os.kill(pid, signal.SIGCONT)
        await asyncio.sleep(10)
    finally:
        await asyncio.to_thread(stack.stop_instance, "referral", 2)


async def _scaled(stack: LocalStack, _outage: float) -> None:
    """referral and notify scaled 1 → 3 → 1 while the load runs."""
    for instance in (2, 3):
        for service in SCALED:
            await asyncio.to_thread(stack.start_instance, service, instance)
    await asyncio.sleep(10)
    for instance in (3, 2):
        for service in SCALED:
            await asyncio.to_thread(stack.stop_instance, service, instance)


def _cut_off(
    name: str,
    what: str,
    route: Callable[[LocalStack], Awaitable[tuple[int, int]]],
    reach: Callable[[LocalStack, int | None], None],
) -> Scenario:
    """Every service reaches a dependency through a proxy (set up before the workload), cut for the outage.

    `route` gives the proxy's (upstream port, listening port; 0 for any); `reach(stack, port)` restarts the
    services pointed at the proxy's port, or straight at the dependency again when given None.
    """
    proxies: list[TcpProxy] = []

    async def setup(stack: LocalStack) -> None:
        upstream, listen = await route(stack)
        proxy = TcpProxy("127.0.0.1", upstream, listen_port=listen)
        await proxy.__aenter__()
        proxies.append(proxy)
        await asyncio.to_thread(reach, stack, proxy.port)

    async def fault(_stack: LocalStack, outage: float) -> None:
        proxies[-1].cut()
        await asyncio.sleep(outage)
        proxies[-1].heal()  # the services reconnect through the proxy and catch up: that is the recovery

    async def teardown(stack: LocalStack) -> None:
        proxy = proxies.pop()
        try:
            await asyncio.to_thread(reach, stack, None)
        finally:
            await proxy.__aexit__(None, None, None)

    return Scenario(name, what, fault, setup, teardown)


async def _database_route(stack: LocalStack) -> tuple[int, int]:
    return stack.postgres.port, 0


def _reach_database_at(stack: LocalStack, port: int | None) -> None:
    for service in SERVICES:
        direct = stack.settings_for(service).database.dsn.get_secret_value()
        via = direct.replace(f"@127.0.0.1:{stack.postgres.port}/", f"@127.0.0.1:{port or stack.postgres.port}/")
        stack.restart_service(service, MEASURING | {"BACKBONE_DATABASE__DSN": via})


async def _broker_route(stack: LocalStack) -> tuple[int, int]:
    """The broker's cuttable listener, which advertises the proxy's fixed port (server.properties.template)."""
    kafka = stack.kafka
    try:
        _, writer = await asyncio.open_connection(kafka.host, kafka.cuttable_port)
    except OSError as error:
        raise RuntimeError(
            f"Kafka has no cuttable listener on {kafka.host}:{kafka.cuttable_port} ({error.strerror}); it was started"
            " with an older configuration. Restart it (`backbone down`, then `backbone up`) and run the suite again."
        ) from error
    writer.close()
    return kafka.cuttable_port, kafka.proxied_port


def _reach_broker_at(stack: LocalStack, port: int | None) -> None:
    via = {"BACKBONE_KAFKA__BOOTSTRAP_SERVERS": f"127.0.0.1:{port}"} if port else {}
    for service in SERVICES:
        stack.restart_service(service, MEASURING | via)


# A rolling upgrade, rehearsed: every service starts from the release before the latest contract change
# (devtools/local/releases.py) and moves to today's code one at a time while the load runs. Producers first:
# the release's consumers read today's records, a newer event version among them. Consumers first: today's
# consumers read the release's records, without that version. referral's and notify's consumer groups hold one
# instance of each release at once for a while, as Kubernetes' rolling update does (maxSurge 1); intake,
# meetings and audit (one ledger writer) are replaced in place. A quarter of the first referrals are declined,
# so that the contract that changed is in flight throughout.
PRODUCERS_FIRST: tuple[ServiceName, ...] = ("intake", "referral", "meetings", "notify", "audit")
CONSUMERS_FIRST: tuple[ServiceName, ...] = ("audit", "notify", "meetings", "referral", "intake")
UPGRADE_STEP_SECONDS = 4.0  # between two services' upgrades, and an old and a new instance side by side
UPGRADE_LOAD_SECONDS = 60.0  # long enough that every step happens with records in flight


def rolling_upgrade(order: tuple[ServiceName, ...], first: str, start: str | None = None) -> Scenario:
    """From the release `start` names (a commit), else the one before the latest contract change."""
    upgraded: set[ServiceName] = set()

    async def setup(stack: LocalStack) -> None:
        release = await asyncio.to_thread(release_at, stack.paths.home, _say, commit=start)
        upgraded.clear()
        _say(f"every service from {release.label} …")
        for service in SERVICES:
            await asyncio.to_thread(stack.restart_service, service, MEASURING, release=release)

    async def fault(stack: LocalStack, _outage: float) -> None:
        for service in order:
            if service in SCALED:  # today's beside the release's in one consumer group, then today's alone
                await asyncio.to_thread(stack.start_instance, service, 2, extra_env=MEASURING)
                await asyncio.sleep(UPGRADE_STEP_SECONDS)
                await asyncio.to_thread(stack.restart_service, service, MEASURING)
                await asyncio.to_thread(stack.stop_instance, service, 2)
            else:
                await asyncio.to_thread(stack.restart_service, service, MEASURING)
            upgraded.add(service)
            _say(f"{service} upgraded to today's code")
            await asyncio.sleep(UPGRADE_STEP_SECONDS)

    async def teardown(stack: LocalStack) -> None:
        """Today's code everywhere, whichever step a failure stopped at."""
        for service in SERVICES:
            if service not in upgraded:
                await asyncio.to_thread(stack.restart_service, service, MEASURING)

    return Scenario(
        f"upgrade-{first}-first",
        f"a rolling upgrade from the release before the latest contract change, {first} first, under load",
        fault,
        setup,
        teardown,
        decline_every=4,
        load_seconds=UPGRADE_LOAD_SECONDS,
    )


def _say(line: str) -> None:
    print(f"    {line}", flush=True)


async def _primary_failed_over(stack: LocalStack, outage: float) -> None:
    """The pair's primary dies (keeper and PostgreSQL SIGKILLed together); pg_auto_failover promotes the standby;
    after the outage the old primary's keeper starts again and makes it the new primary's standby."""
    pair = stack.ha
    if pair is None:
        raise RuntimeError("postgres-failover runs on the PostgreSQL pair; the harness starts it (on_pair)")
    victim = pair.primary()
    if victim is None:
        raise RuntimeError("the pair has no primary")
    await asyncio.to_thread(pair.crash, victim)
    promoted = functools.partial(_promoted_other_than, pair, victim)
    await asyncio.to_thread(pair.wait_until, promoted, within=60, what="the standby's promotion")
    await asyncio.sleep(outage)
    await asyncio.to_thread(pair.rejoin, victim)
    await asyncio.to_thread(pair.wait_until, pair.replicating, within=120, what="the old primary to rejoin")


async def _cluster_broker_killed(stack: LocalStack, outage: float) -> None:
    """The cluster's busiest broker (the one leading most of the backbone's partitions) SIGKILLed, down for the
    outage, started again. Two in-sync replicas remain for every partition, so nothing need wait."""
    cluster = stack.kafka_cluster
    if cluster is None:
        raise RuntimeError("cluster-broker-kill runs on the three-broker cluster; the harness starts it (on_cluster)")
    states = await partition_states(cluster.bootstrap_servers, [topic.name for topic in ALL_TOPICS])
    busiest, _ = leaders(states).most_common(1)[0]
    await asyncio.to_thread(cluster.kill_node, busiest)
    await asyncio.sleep(outage)
    await asyncio.to_thread(cluster.start_node, busiest)


def _promoted_other_than(pair: LocalHaPostgres, victim: str) -> bool:
    return pair.primary() not in (None, victim)


def catalogue(upgrade_from: str | None = None) -> list[Scenario]:
    return [
        Scenario("baseline", "no fault: the checker's control", lambda _stack, _outage: asyncio.sleep(0)),
        *(kill(service) for service in SERVICES),
        *(terminate(service) for service in SERVICES),
        Scenario("broker-kill", "the Kafka broker SIGKILLed, down for the outage, restarted", _broker_killed),
        Scenario("broker-restart", "the Kafka broker stopped cleanly and started again", _broker_restarted),
        Scenario("postgres-kill", "PostgreSQL's postmaster SIGKILLed, down, restarted", _postgres_killed),
        Scenario("zombie", f"referral SIGSTOPped {ZOMBIE_PAUSE_SECONDS:.0f}s with a second instance running", _zombie),
        Scenario("scale", "referral and notify scaled 1 → 3 → 1 under load", _scaled),
        Scenario("smtp-down", "the SMTP server down for the outage", _smtp_down),
        _cut_off("db-cutoff", "every service cut off from PostgreSQL by a proxy", _database_route, _reach_database_at),
        _cut_off("broker-cutoff", "every service cut off from Kafka by a proxy", _broker_route, _reach_broker_at),
        rolling_upgrade(PRODUCERS_FIRST, "producers", upgrade_from),
        rolling_upgrade(CONSUMERS_FIRST, "consumers", upgrade_from),
        Scenario(
            "cluster-broker-kill",
            "on the three-broker cluster: the broker leading most partitions SIGKILLed, down, restarted",
            _cluster_broker_killed,
            on_cluster=True,
        ),
        Scenario(
            "postgres-failover",
            "on the PostgreSQL pair: the primary SIGKILLed, the standby promoted, the old primary rejoins",
            _primary_failed_over,
            on_pair=True,
        ),
    ]
