"""Three Kafka nodes on this machine (KRaft, each one broker and controller), for seeing the backbone's
guarantees when a broker dies: `backbone cluster up`, and the cluster tests.

The single-node broker stays the default of the local stack; this cluster has its own ports, its own
home and its own pid files, so both can run side by side. Every node is formatted with one cluster id
and the same three initial controllers (KRaft's dynamic quorum), kept in `identity.json` so a node
formatted later joins the same cluster. The jars, the JVM's command line and the readiness wait are
the single node's (devtools.local.kafka).
"""

from __future__ import annotations

import asyncio
import base64
import json
import socket
import subprocess
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from devtools.local.kafka import (
    KAFKA_VERSION,
    LocalRuntimeError,
    broker_command,
    ensure_jars,
    live_brokers,
    quiet_aiokafka,
    run_java,
    wait_until,
)
from devtools.local.paths import DEPLOY
from devtools.local.processes import ManagedProcess

CLUSTER_TEMPLATE = DEPLOY / "kafka" / "cluster-server.properties.template"
NODE_IDS = (1, 2, 3)
FIRST_PORT = 19092
"""Node n listens on FIRST_PORT + 2(n−1) (clients) and the port above it (controllers): 19092…19097."""
HEAP = ("128m", "384m")  # three JVMs share a small machine with the single-node stack


def kafka_uuid() -> str:
    """A random id as Kafka writes it (16 bytes, URL-safe base64 without padding); never starting with
    '-', which Kafka's own tools refuse because it reads like an option."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not text.startswith("-"):
            return text


@dataclass(frozen=True)
class ClusterIdentity:
    """The cluster id and each node's metadata directory id: every node must be formatted with the same."""

    cluster_id: str
    directory_ids: dict[int, str]

    @classmethod
    def load_or_create(cls, path: Path) -> ClusterIdentity:
        if path.exists():
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(data["cluster_id"], {int(node): str(d) for node, d in data["directory_ids"].items()})
        identity = cls(kafka_uuid(), {node_id: kafka_uuid() for node_id in NODE_IDS})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(
            json.dumps({"cluster_id": identity.cluster_id, "directory_ids": identity.directory_ids}, indent=2),
            encoding="utf-8",
        )
        return identity


@dataclass(frozen=True)
class ClusterNode:
    node_id: int
    host: str
    port: int
    controller_port: int
    home: Path

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.home / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.home / "data"

    @property
    def logs(self) -> Path:
        return self.home / "logs"

    @property
    def process(self) -> ManagedProcess:
        # The config file's path is unique to this node of this cluster home: a pid only counts when it runs it.
        return ManagedProcess(f"kafka-{self.node_id}", self.home / "kafka.pid", marker=str(self.config_file))

    def voter(self, directory_id: str) -> str:
        """This node as one of the initial controllers: id@host:port:directory-id."""
        return f"{self.node_id}@{self.host}:{self.controller_port}:{directory_id}"


class LocalKafkaCluster:
    def __init__(self, home: Path, *, first_port: int = FIRST_PORT, host: str = "127.0.0.1") -> None:
        self.home = home
        self.nodes = {
            node_id: ClusterNode(node_id, host, first_port + 2 * i, first_port + 2 * i + 1, home / f"node-{node_id}")
            for i, node_id in enumerate(NODE_IDS)
        }

    @property
    def bootstrap_servers(self) -> str:
        """What clients are given: every node, so any one of them is enough to find the others."""
        return ",".join(node.address for node in self.nodes.values())

    def node(self, node_id: int) -> ClusterNode:
        if node_id not in self.nodes:
            raise LocalRuntimeError(f"there is no node {node_id}: the cluster's nodes are 1, 2 and 3")
        return self.nodes[node_id]

    def start(self, *, timeout: float = 120.0) -> list[str]:
        """Start the nodes that are not running; ready when each node reports all three as live brokers."""
        stopped = [node for node in self.nodes.values() if node.process.pid() is None]
        if not stopped:
            return [f"Kafka cluster: already running on {self.bootstrap_servers}"]
        began = time.monotonic()
        self._launch_and_wait(stopped, within=timeout)
        names = ", ".join(str(node.node_id) for node in stopped)
        return [f"Kafka {KAFKA_VERSION} cluster: node(s) {names} started in {time.monotonic() - began:.1f}s"]

    def start_node(self, node_id: int, *, timeout: float = 90.0) -> str:
        """Start one node; ready when it and every other running node report each other as live brokers."""
        node = self.node(node_id)
        if node.process.pid() is not None:
            return f"node {node_id}: already running on {node.address}"
        began = time.monotonic()
        self._launch_and_wait([node], within=timeout)
        return f"node {node_id}: started on {node.address} in {time.monotonic() - began:.1f}s"

    def stop(self) -> list[str]:
        """Stop every node at once: one by one, the last node's controlled shutdown would wait for a controller
        quorum that is already gone, until it is killed."""
        with ThreadPoolExecutor(len(self.nodes)) as pool:
            return list(pool.map(lambda node: self.stop_node(node.node_id), self.nodes.values()))

    def stop_node(self, node_id: int) -> str:
        stopped = self.node(node_id).process.stop(timeout=30)
        return f"node {node_id}: stopped" if stopped else f"node {node_id}: was not running"

    def kill_node(self, node_id: int) -> str:
        """SIGKILL one node: a crash, with no controlled shutdown and no leadership handed over."""
        killed = self.node(node_id).process.kill()
        return f"node {node_id}: killed (SIGKILL)" if killed else f"node {node_id}: was not running"

    def status(self) -> list[str]:
        lines = []
        for node in self.nodes.values():
            pid = node.process.pid()
            state = f"running (pid {pid})" if pid else "stopped"
            if pid:
                with quiet_aiokafka():
                    seen = asyncio.run(live_brokers(node.address))
                state += (
                    f", sees live brokers {', '.join(map(str, sorted(seen)))}"
                    if seen
                    else f", not answering (starting? see {node.logs})"
                )
            lines.append(f"node {node.node_id}: {state} on {node.address}, controller :{node.controller_port}")
        return lines

    def _launch_and_wait(self, nodes: list[ClusterNode], *, within: float) -> None:
        libs = ensure_jars()
        self._ensure_formatted(libs)
        for node in nodes:
            _refuse_taken_ports(node)
        running = [node for node in self.nodes.values() if node not in nodes and node.process.pid() is not None]
        handles: list[subprocess.Popen[bytes]] = [
            node.process.start(
                broker_command(libs, node.config_file, node.logs, heap=HEAP), log_file=node.logs / "stdout.log"
            )
            for node in nodes
        ]
        expected = running + nodes
        what = "Kafka cluster node(s) " + ", ".join(str(node.node_id) for node in nodes)
        logs = nodes[0].logs if len(nodes) == 1 else self.home  # each node's logs are in node-N/logs
        asyncio.run(wait_until(lambda: _all_see_each_other(expected), handles, within=within, what=what, logs=logs))

    def _ensure_formatted(self, libs: Path) -> None:
        """Render every node's server.properties; format the storage of those never formatted."""
        identity = ClusterIdentity.load_or_create(self.home / "identity.json")
        template = CLUSTER_TEMPLATE.read_text(encoding="utf-8")
        quorum = ",".join(f"{node.host}:{node.controller_port}" for node in self.nodes.values())
        voters = ",".join(node.voter(identity.directory_ids[node.node_id]) for node in self.nodes.values())
        unformatted = []
        for node in self.nodes.values():
            node.data_dir.mkdir(parents=True, exist_ok=True)
            node.config_file.write_text(
                template.format(
                    node_id=node.node_id,
                    log_dirs=node.data_dir,
                    host=node.host,
                    port=node.port,
                    controller_port=node.controller_port,
                    quorum_bootstrap=quorum,
                ),
                encoding="utf-8",
            )
            if not (node.data_dir / "meta.properties").exists():
                unformatted.append(node)

        def format_storage(node: ClusterNode) -> None:
            run_java(
                libs,
                "kafka.tools.StorageTool",
                "format",
                "--cluster-id",
                identity.cluster_id,
                "--initial-controllers",
                voters,
                "--config",
                str(node.config_file),
                "--ignore-formatted",
            )

        with ThreadPoolExecutor(max(1, len(unformatted))) as pool:  # one JVM each: in parallel, not in turn
            list(pool.map(format_storage, unformatted))


async def _all_see_each_other(nodes: list[ClusterNode]) -> bool:
    """Every node reports every other as a live broker: the controllers have a quorum, each node has caught
    up with the metadata and is unfenced (a lone node's stale view cannot pass for a healthy cluster)."""
    wanted = {node.node_id for node in nodes}
    for node in nodes:
        seen = await live_brokers(node.address)
        if seen is None or not wanted <= seen:
            return False
    return True


def _refuse_taken_ports(node: ClusterNode, *, grace: float = 10.0) -> None:
    """Fail with what to do when another program holds the node's ports. A node stopped a moment ago
    may still hold them while its last threads exit, so they get `grace` seconds to come free."""
    deadline = time.monotonic() + grace
    for port in (node.port, node.controller_port):
        while _listening(node.host, port):
            if time.monotonic() > deadline:
                raise LocalRuntimeError(
                    f"port {port} (node {node.node_id}) is taken by another program while the node is stopped; "
                    "stop that program, or start the cluster on other ports (LocalKafkaCluster(first_port=…))"
                )
            time.sleep(0.2)


def _listening(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex((host, port)) == 0
