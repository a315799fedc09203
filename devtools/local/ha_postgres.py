"""PostgreSQL with a synchronous standby on this machine, failed over by pg_auto_failover.

Three processes, each a `pg_autoctl` keeper running its own PostgreSQL from Debian's packages
(`postgresql-15-auto-failover`, `pg-auto-failover-cli`), all on 127.0.0.1:

    monitor (55440)  a PostgreSQL with the pgautofailover extension: it health-checks the nodes and
                     decides who is primary
    node1   (55441)  primary or standby
    node2   (55442)  the other

The primary lists the standby in `synchronous_standby_names` (`ANY 1`), so a commit a client saw is on
both. The services connect with both nodes in one DSN and `target_session_attrs=read-write`, so after a
promotion their next connection finds the new primary by itself. A SIGKILLed primary is replaced in
about 8 s (the monitor's timeouts below: pg_auto_failover's defaults take about 50 s), and its keeper,
started again, rewinds it with pg_rewind and makes it the new primary's standby.

Why pg_auto_failover rather than Patroni: it is one Debian package with no other store to run (its
monitor is a PostgreSQL, which a city's operators already know how to run and back up), its state is
one table they can query, and it does the rewind and rejoin itself. Patroni needs etcd (or Consul, or
ZooKeeper) beside it, a second distributed system to operate. On Kubernetes, CloudNativePG does the
same job (deploy/k8s/base/postgres/).
"""

from __future__ import annotations

import asyncio
import functools
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from devtools.local.kafka import LocalRuntimeError
from devtools.local.paths import LocalPaths
from devtools.local.postgres import LocalSecrets, ensure_databases
from devtools.local.processes import ManagedProcess, ended

NODES = ("node1", "node2")
DEFAULT_MONITOR_PORT = 55440

# The monitor decides faster than pg_auto_failover's defaults (a failover in about 8 s instead of 50):
# a health check every second, a node unhealthy after 4 s without answers, and the old primary given 4 s
# to confirm that it stepped down. A primary cut off from the monitor but still running cannot lose an
# acknowledged commit meanwhile: its commits wait for the standby, which stopped replicating from it
# before it was promoted. Each keeper also demotes its own primary after 4 s without monitor or standby.
MONITOR_SETTINGS = {
    "pgautofailover.health_check_period": 1000,
    "pgautofailover.health_check_timeout": 1000,
    "pgautofailover.health_check_max_retries": 1,
    "pgautofailover.health_check_retry_delay": 500,
    "pgautofailover.node_considered_unhealthy_timeout": 4000,
    "pgautofailover.primary_demote_timeout": 4000,
}
NETWORK_PARTITION_SECONDS = 4

# What `backbone up` gives its single server, given to each node; the standby gets them with the base backup.
NODE_SETTINGS = "\n# Written by backbone\nmax_connections = 300\nshared_buffers = 256MB\n"


@dataclass(frozen=True)
class NodeState:
    name: str
    port: int
    reported: str
    assigned: str
    healthy: bool


class LocalHaPostgres:
    def __init__(
        self,
        paths: LocalPaths,
        *,
        monitor_port: int = DEFAULT_MONITOR_PORT,
        node_ports: tuple[int, int] = (55441, 55442),
    ):
        self.paths = paths
        self.monitor_port = monitor_port
        self.ports = dict(zip(NODES, node_ports, strict=True))
        self.as_root = os.geteuid() == 0
        base = Path("/var/lib/postgresql/fujisawa-backbone") if self.as_root else paths.postgres
        self.base = base / f"ha-{monitor_port}"
        self.label = f"PostgreSQL HA (pg_auto_failover, monitor on 127.0.0.1:{monitor_port})"

    # --- what the stack asks of a database server ---

    def dsn(self, service: str, secrets_: LocalSecrets) -> str:
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.ports.values())
        password = secrets_.service_passwords[service]
        return f"postgresql://{service}:{password}@{hosts}/{service}?target_session_attrs=read-write"

    def start(self, report: Callable[[str], None] = print) -> str:
        """Create what is missing, run the three keepers, wait for a primary and its synchronous standby, and
        make sure every service has its role and database."""
        self._require_packages()
        local_secrets = LocalSecrets.load_or_create(self.paths.secrets)
        began = time.monotonic()
        if not (self._pgdata("monitor") / "PG_VERSION").exists():
            report(f"{self.label}: creating the monitor")
            self._create_monitor()
        self._run_keeper("monitor")
        asyncio.run(self._tune_monitor())
        for node in NODES:
            if not (self._pgdata(node) / "PG_VERSION").exists():
                report(f"{self.label}: creating {node} (a standby copies the primary, which takes a while)")
                self._create_node(node)
            self._run_keeper(node)
            self.wait_until(functools.partial(self._serving, node), within=180, what=f"{node} to serve")
        # Held for a few seconds: a kept pair's monitor first shows the states of its last run, and the keepers'
        # first reports can still move them (pg_auto_failover's monitor may fail a node's first report on a
        # deadlock between the two nodes' calls, and then sends the standby back to catching up).
        self.wait_until(self.replicating, within=120, what="a primary with its synchronous standby", steady=3.0)
        asyncio.run(self._ensure_databases(local_secrets))
        self.wait_until(lambda: self.primary() is not None, within=60, what="the monitor to name the primary")
        primary = self.primary()
        return f"{self.label}: {primary} primary, its standby synchronous ({time.monotonic() - began:.1f}s)"

    def stop(self) -> str:
        stopped = [name for name in (*NODES, "monitor") if self._keeper(name).stop(timeout=60)]
        return f"{self.label}: stopped" if stopped else f"{self.label}: was not running"

    def status(self) -> str:
        if self._keeper("monitor").pid() is None:
            return f"{self.label}: stopped"
        try:
            nodes = self.state()
        except LocalRuntimeError as error:
            return f"{self.label}: monitor not answering ({error})"
        shown = ", ".join(f"{n.name} {n.reported}{'' if n.healthy else ' (unreachable)'}" for n in nodes)
        return f"{self.label}: {shown}"

    # --- what fault tests do to it ---

    def state(self) -> list[NodeState]:
        """The nodes as the monitor sees them."""
        shown = self._pg_autoctl("show", "state", "--pgdata", str(self._pgdata("monitor")), "--json")
        return [
            NodeState(
                n["nodename"], n["nodeport"], n["current_group_state"], n["assigned_group_state"], n["health"] == 1
            )
            for n in json.loads(shown)
        ]

    def primary(self) -> str | None:
        """The node that takes writes now (primary, or a promoted one not yet joined by a standby)."""
        writable = ("primary", "wait_primary", "single")
        return next((n.name for n in self.state() if n.reported in writable and n.assigned in writable), None)

    def replicating(self) -> bool:
        """A primary with a standby in sync, both healthy in the monitor's eyes, as after start and after a rejoin."""
        nodes = self.state()
        states = {(n.reported, n.assigned) for n in nodes}
        return all(n.healthy for n in nodes) and {("primary", "primary"), ("secondary", "secondary")} <= states

    def crash(self, node: str) -> None:
        """SIGKILL the node's keeper and its PostgreSQL together (their process group), as a machine that dies:
        killing PostgreSQL alone would only have its keeper start it again."""
        pid = self._keeper(node).pid()
        if pid is None:
            raise LocalRuntimeError(f"{node} is not running")
        os.killpg(pid, signal.SIGKILL)
        postmaster = self._pgdata(node) / "postmaster.pid"
        self.wait_until(lambda: ended(pid) and not _postmaster_alive(postmaster), within=30, what=f"{node} to end")

    def rejoin(self, node: str) -> None:
        """Run the node's keeper again: it finds a new primary, rewinds its PostgreSQL and follows it."""
        self._run_keeper(node)

    def wait_until(self, check: Callable[[], bool], *, within: float, what: str, steady: float = 0.0) -> None:
        """Until `check` holds, and has held for `steady` seconds in a row; LocalRuntimeError after `within`."""
        deadline = time.monotonic() + within
        held_since: float | None = None
        while time.monotonic() < deadline:
            try:
                holds = check()
            except LocalRuntimeError:
                holds = False  # the monitor restarting, or a state being written: asked again
            if not holds:
                held_since = None
            elif held_since is None:
                held_since = time.monotonic()
            if held_since is not None and time.monotonic() - held_since >= steady:
                return
            time.sleep(0.3)
        raise LocalRuntimeError(f"{self.label}: waited {within:g}s for {what}; logs in {self.paths.logs}")

    # --- the keepers ---

    def _create_monitor(self) -> None:
        self._prepare_base()
        self._pg_autoctl(
            "create", "monitor", *self._common("monitor", self.monitor_port), "--auth", "trust", "--no-ssl"
        )

    def _create_node(self, node: str) -> None:
        monitor = f"postgres://autoctl_node@127.0.0.1:{self.monitor_port}/pg_auto_failover?sslmode=disable"
        self._pg_autoctl(
            "create", "postgres", *self._common(node, self.ports[node]), "--name", node, "--monitor", monitor,
            "--auth", "trust", "--no-ssl", "--replication-quorum", "true", "--candidate-priority", "50",
        )  # fmt: skip
        self._pg_autoctl(
            "config", "set", "--pgdata", str(self._pgdata(node)),
            "timeout.network_partition_timeout", str(NETWORK_PARTITION_SECONDS),
        )  # fmt: skip
        pgdata = self._pgdata(node)
        if not (pgdata / "standby.signal").exists():  # the primary: its settings reach the standby by base backup
            with (pgdata / "postgresql.conf").open("a", encoding="utf-8") as conf:
                conf.write(NODE_SETTINGS)
        _require_passwords(pgdata / "pg_hba.conf")

    def _common(self, name: str, port: int) -> list[str]:
        return [
            "--pgctl", str(_bin_dir() / "pg_ctl"), "--pgdata", str(self._pgdata(name)), "--pgport", str(port),
            "--hostname", "127.0.0.1", "--listen", "127.0.0.1",
        ]  # fmt: skip

    def _run_keeper(self, name: str) -> None:
        keeper = self._keeper(name)
        if keeper.pid() is not None:
            return
        argv = [*self._as_owner(), "env", *self._xdg(), "pg_autoctl", "run", "--pgdata", str(self._pgdata(name))]
        keeper.start(argv, log_file=self.paths.log_file(self._process_name(name)), cwd=self.base)

    def _keeper(self, name: str) -> ManagedProcess:
        process = self._process_name(name)
        return ManagedProcess(process, self.paths.pid_file(process), marker=str(self._pgdata(name)))

    def _process_name(self, name: str) -> str:
        """`postgres-ha-node1` for `backbone up --ha`'s pair; a pair on other ports (the failover test's) names
        its pid and log files after its monitor's port, so that the two never take each other's."""
        return (
            f"postgres-ha-{name}"
            if self.monitor_port == DEFAULT_MONITOR_PORT
            else f"postgres-ha-{self.monitor_port}-{name}"
        )

    def _serving(self, node: str) -> bool:
        return any(n.name == node and n.reported == n.assigned and n.healthy for n in self.state())

    async def _tune_monitor(self) -> None:
        monitor = await self._connect(self.monitor_port, "pg_auto_failover", "postgres")
        try:
            for name, value in MONITOR_SETTINGS.items():
                await monitor.execute(f"ALTER SYSTEM SET {name} = {int(value)}")
            await monitor.execute("SELECT pg_reload_conf()")
        finally:
            await monitor.close()

    async def _ensure_databases(self, local_secrets: LocalSecrets) -> None:
        """On whichever node takes writes: the monitor's view may still be the one from before a restart, so the
        writable node is found as the services find it (both hosts, target_session_attrs=read-write), and asked
        again until it answers."""
        hosts = ",".join(f"127.0.0.1:{port}" for port in self.ports.values())
        # pg_auto_failover trusts `postgres` on database `postgres` from loopback (its own rule in pg_hba.conf).
        writable = f"postgresql://postgres@{hosts}/postgres?target_session_attrs=read-write"
        deadline = time.monotonic() + 60
        while True:
            try:
                admin = await asyncpg.connect(writable, timeout=5)
                try:
                    quoted = await admin.fetchval("SELECT quote_literal($1)", local_secrets.admin_password)
                    await admin.execute(f"ALTER ROLE postgres PASSWORD {quoted}")
                    await ensure_databases(admin, local_secrets)
                    return
                finally:
                    await admin.close()
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.5)

    async def _connect(self, port: int, database: str, user: str) -> asyncpg.Connection:
        deadline = time.monotonic() + 30
        while True:
            try:
                return await asyncpg.connect(host="127.0.0.1", port=port, user=user, database=database, timeout=5)
            except (OSError, asyncpg.PostgresError):
                if time.monotonic() > deadline:
                    raise
                await asyncio.sleep(0.3)

    # --- running as PostgreSQL's owner ---

    def _pgdata(self, name: str) -> Path:
        return self.base / name

    def _xdg(self) -> list[str]:
        """pg_autoctl keeps its configuration and state under the XDG directories: under the base, so that
        removing the base removes all of it (in the owner's home, a stale state would refuse a new node)."""
        return [
            f"XDG_{kind}={self.base / 'xdg' / kind.lower()}" for kind in ("CONFIG_HOME", "DATA_HOME", "RUNTIME_DIR")
        ]

    def _prepare_base(self) -> None:
        runtime = self.base / "xdg" / "runtime_dir"
        runtime.mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)
        if self.as_root:
            for path in (self.base, *self.base.rglob("*")):
                shutil.chown(path, "postgres", "postgres")

    def _pg_autoctl(self, *args: str) -> str:
        command = [*self._as_owner(), "env", *self._xdg(), "pg_autoctl", *args]
        result = subprocess.run(command, capture_output=True, text=True, check=False, cwd=self.base)
        if result.returncode != 0:
            raise LocalRuntimeError(
                f"pg_autoctl {' '.join(args[:2])} failed ({result.returncode}):\n{result.stderr[-2000:]}"
            )
        return result.stdout

    def _as_owner(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if self.as_root else []

    def _require_packages(self) -> None:
        if shutil.which("pg_autoctl") is None:
            raise LocalRuntimeError(
                "pg_auto_failover is not installed. Install it with:"
                " sudo apt-get install -y postgresql-15-auto-failover pg-auto-failover-cli"
            )


def _require_passwords(hba: Path) -> None:
    """initdb's own rules trust every loopback connection; the services' roles must give their passwords, as on
    the single server. pg_auto_failover's own roles (and `postgres` on database `postgres`, which its keeper
    uses) stay trusted from loopback, by rules put first: PostgreSQL takes the first rule that matches, and the
    keeper appends its own only when a node joins, after the password rules."""
    kept = [
        f"host {database} {role} 127.0.0.1/32 trust  # pg_auto_failover's own (backbone)"
        for database, role in (
            ("all", "pgautofailover_monitor"),
            ("all", "pgautofailover_replicator"),
            ("replication", "pgautofailover_replicator"),
            ("postgres", "postgres"),
        )
    ]
    lines = [line for line in hba.read_text().splitlines() if "(backbone)" not in line]
    rewritten = [
        line.replace("trust", "scram-sha-256")
        if line.startswith("host") and "Auto-generated" not in line and line.split()[2:3] == ["all"]
        else line
        for line in lines
    ]
    hba.write_text("\n".join([*kept, *rewritten]) + "\n")


def _postmaster_alive(pid_file: Path) -> bool:
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return False
    return not ended(pid)


def _bin_dir() -> Path:
    return Path("/usr/lib/postgresql/15/bin")
