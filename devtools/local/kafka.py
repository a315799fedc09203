"""A single-node Apache Kafka broker (KRaft, combined broker + controller) from Maven Central jars.

The jars are resolved once by Maven from deploy/kafka/pom.xml into a cache outside the repository and
reused; the storage is formatted once; readiness is a real metadata request, not a sleep. The jar
cache, the JVM's command line and the readiness wait are shared with the three-node cluster
(devtools.local.cluster).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.conn import create_conn
from aiokafka.errors import KafkaError
from aiokafka.protocol.metadata import MetadataRequest

from backbone.kafka import client_options
from backbone.settings import KafkaSettings
from devtools.local.paths import DEPLOY, LocalPaths
from devtools.local.processes import ManagedProcess

KAFKA_VERSION = "4.2.0"
POM = DEPLOY / "kafka" / "pom.xml"
SERVER_TEMPLATE = DEPLOY / "kafka" / "server.properties.template"
LOG4J_CONFIG = DEPLOY / "kafka" / "log4j2.properties"


class LocalRuntimeError(RuntimeError):
    """The local runtime could not be set up; the message says what to do."""


def jar_cache() -> Path:
    cache = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache"))
    return cache / "fujisawa-backbone" / f"kafka-{KAFKA_VERSION}" / "libs"


def _pom_stamp() -> str:
    return hashlib.sha256(POM.read_bytes()).hexdigest()


def jars_ready() -> bool:
    """The cache holds the jars of this pom.xml (resolved completely)."""
    marker = jar_cache() / ".complete"
    return marker.exists() and marker.read_text() == _pom_stamp()


def ensure_jars() -> Path:
    """Resolve the broker's jars with Maven unless the cache already holds those of this pom.xml."""
    libs = jar_cache()
    if jars_ready():
        return libs
    for tool in ("java", "mvn"):
        if shutil.which(tool) is None:
            raise LocalRuntimeError(
                f"`{tool}` is not installed. Install it with: apt-get install -y openjdk-17-jre-headless maven"
            )
    partial = libs.with_name("libs.partial")
    shutil.rmtree(partial, ignore_errors=True)
    command = [
        "mvn",
        "-B",
        "-q",
        "-f",
        str(POM),
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={partial}",
    ]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LocalRuntimeError(f"Maven could not resolve Kafka {KAFKA_VERSION}:\n{result.stdout[-3000:]}")
    shutil.rmtree(libs, ignore_errors=True)
    partial.rename(libs)
    (libs / ".complete").write_text(_pom_stamp())
    return libs


def run_java(libs: Path, main: str, *args: str) -> str:
    """Run one of Kafka's command-line tools to the end; returns its output."""
    result = subprocess.run(["java", "-cp", f"{libs}/*", main, *args], capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LocalRuntimeError(f"{main} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
    return result.stdout


def broker_command(libs: Path, config_file: Path, logs: Path, *, heap: tuple[str, str] = ("256m", "512m")) -> list[str]:
    """The JVM command line of a broker; `heap` is (-Xms, -Xmx). A fixed heap (both the same) is also touched
    whole at start (`AlwaysPreTouch`): the JVM otherwise maps its pages in as the collector first uses each region,
    and a soak saw the broker's resident memory climb for an hour towards a size it was given at start."""
    fixed = ["-XX:+AlwaysPreTouch"] if heap[0] == heap[1] else []
    return [
        "java",
        f"-Xms{heap[0]}",
        f"-Xmx{heap[1]}",
        *fixed,
        f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
        f"-Dkafka.logs.dir={logs}",
        "-cp",
        f"{libs}/*",
        "kafka.Kafka",
        str(config_file),
    ]


async def wait_until(
    ready: Callable[[], Awaitable[bool]],
    processes: Sequence[subprocess.Popen[bytes]],
    *,
    within: float,
    what: str,
    logs: Path,
) -> None:
    """Poll `ready()` until it holds; fail early when one of `processes` exits, or after `within` seconds."""
    deadline = time.monotonic() + within
    with quiet_aiokafka():  # it logs every refused connection while a broker boots; that is expected here
        while not await ready():
            if any(process.poll() is not None for process in processes):
                raise LocalRuntimeError(f"{what} exited during start-up; see {logs}")
            if time.monotonic() > deadline:
                raise LocalRuntimeError(f"{what} not ready after {within:.0f}s; see {logs}")
            await asyncio.sleep(0.2)


@contextlib.contextmanager
def quiet_aiokafka() -> Iterator[None]:
    """aiokafka's connection errors silenced, where a node being down is what we are looking at."""
    aiokafka_log = logging.getLogger("aiokafka")
    level = aiokafka_log.level
    aiokafka_log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        aiokafka_log.setLevel(level)


async def live_brokers(address: str) -> frozenset[int] | None:
    """The ids of the brokers that the node at host:port reports live (KRaft lists only unfenced brokers);
    None when it does not answer.

    Asked of that one node, not of whichever node a client picks: a node cut off from the controller
    quorum keeps its last view, so a cluster is healthy only when every running node reports the others.
    """
    host, port = address.rsplit(":", 1)
    try:
        conn = await create_conn(host, int(port), client_id="backbone-readiness", request_timeout_ms=2000)
    except (KafkaError, OSError, TimeoutError):
        return None
    try:
        response = await conn.send(MetadataRequest([]))  # no topics: the brokers only
    except (KafkaError, OSError, TimeoutError):
        return None
    finally:
        conn.close()
    return frozenset(int(broker[0]) for broker in response.brokers)


class LocalKafka:
    """The development broker of `backbone up`: one PLAINTEXT listener, no authentication, no ACLs."""

    label = "Kafka"
    jvm_heap = ("512m", "512m")  # (-Xms, -Xmx)
    """A fixed heap, as production's (deploy/k8s: 2048m both): a heap free to grow is memory that grows. With
    256m/512m the 2-hour soak saw the broker's memory step from 537 to 678 MiB at minute 112, its heap
    expanding to the maximum."""

    def __init__(self, paths: LocalPaths, *, port: int = 9092, controller_port: int = 9093) -> None:
        self.paths = paths
        self.host = "127.0.0.1"
        self.port = port
        self.controller_port = controller_port
        # The fault suite's broker cut-off: a listener (port + 2) that advertises port + 3, where the
        # suite's proxy listens (see server.properties.template).
        self.cuttable_port = port + 2
        self.proxied_port = port + 3
        self.process = ManagedProcess("kafka", paths.pid_file("kafka"), marker=str(self.config_file))

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def config_file(self) -> Path:
        return self.paths.kafka / "server.properties"

    @property
    def data_dir(self) -> Path:
        return self.paths.kafka / "data"

    def jars_ready(self) -> bool:
        return jars_ready()

    def ensure_jars(self) -> Path:
        return ensure_jars()

    @property
    def formatted(self) -> bool:
        return (self.data_dir / "meta.properties").exists()

    def admin_settings(self) -> KafkaSettings:
        """How the runtime itself reaches the broker (readiness, topics)."""
        return KafkaSettings(bootstrap_servers=self.bootstrap_servers)

    def write_config(self) -> None:
        template = SERVER_TEMPLATE.read_text(encoding="utf-8")
        self.config_file.write_text(
            template.format(
                log_dirs=self.data_dir,
                host=self.host,
                port=self.port,
                controller_port=self.controller_port,
                cuttable_port=self.cuttable_port,
                proxied_port=self.proxied_port,
            ),
            encoding="utf-8",
        )

    def format_options(self) -> list[str]:
        """Further `StorageTool format` options (the secured broker adds its SCRAM credentials)."""
        return []

    def ensure_formatted(self, libs: Path) -> None:
        """Render server.properties and format the storage once (the cluster id is kept across runs)."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        if self.formatted:
            return
        cluster_id = run_java(libs, "kafka.tools.StorageTool", "random-uuid").strip()
        run_java(
            libs,
            "kafka.tools.StorageTool",
            "format",
            "--standalone",
            "-t",
            cluster_id,
            "-c",
            str(self.config_file),
            "--ignore-formatted",
            *self.format_options(),
        )

    def start(self, *, timeout: float = 90.0) -> str:
        """Start the broker unless it runs; returns a line saying what happened."""
        if self.process.pid() is not None:
            return f"{self.label} {KAFKA_VERSION}: already running on {self.bootstrap_servers}"
        libs = ensure_jars()
        self.ensure_formatted(libs)
        logs = self.paths.kafka / "logs"
        began = time.monotonic()
        process = self.process.start(
            broker_command(libs, self.config_file, logs, heap=self.jvm_heap), log_file=logs / "stdout.log"
        )
        asyncio.run(wait_until(self._answers, [process], within=timeout, what=self.label, logs=logs))
        return f"{self.label} {KAFKA_VERSION}: started on {self.bootstrap_servers} in {time.monotonic() - began:.1f}s"

    def stop(self) -> str:
        stopped = self.process.stop(timeout=60)
        return f"{self.label}: stopped" if stopped else f"{self.label}: was not running"

    def status(self) -> str:
        pid = self.process.pid()
        if pid is None:
            return f"{self.label}: stopped"
        return f"{self.label} {KAFKA_VERSION}: running (pid {pid}) on {self.bootstrap_servers}"

    async def _answers(self) -> bool:
        """True when the broker answers a metadata request, asked as the runtime's own client (the secured
        broker answers only an authenticated one)."""
        admin = AIOKafkaAdminClient(**client_options(self.admin_settings()), request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.describe_cluster()
        except (KafkaError, OSError):
            return False
        finally:
            await admin.close()
        return True
