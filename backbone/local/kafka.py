"""A single-node Apache Kafka broker (KRaft, combined broker + controller) from Maven Central jars.

The jars are resolved once by Maven from deploy/kafka/pom.xml into a cache outside the repository and
reused; the storage is formatted once; readiness is a real metadata request, not a sleep.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import shutil
import subprocess
import time
from pathlib import Path

from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from backbone.kafka import client_options
from backbone.local.paths import DEPLOY, LocalPaths
from backbone.local.processes import ManagedProcess
from backbone.settings import KafkaSettings

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


class LocalKafka:
    """The development broker of `backbone up`: one PLAINTEXT listener, no authentication, no ACLs."""

    label = "Kafka"
    jvm_heap = ("-Xms256m", "-Xmx512m")

    def __init__(self, paths: LocalPaths, *, port: int = 9092, controller_port: int = 9093) -> None:
        self.paths = paths
        self.host = "127.0.0.1"
        self.port = port
        self.controller_port = controller_port
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
        """The cache holds the jars of this pom.xml (resolved completely)."""
        marker = jar_cache() / ".complete"
        return marker.exists() and marker.read_text() == _pom_stamp()

    def ensure_jars(self) -> Path:
        """Resolve the broker's jars with Maven unless the cache already holds those of this pom.xml."""
        libs = jar_cache()
        if self.jars_ready():
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
                log_dirs=self.data_dir, host=self.host, port=self.port, controller_port=self.controller_port
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
        cluster_id = self._java(libs, "kafka.tools.StorageTool", "random-uuid").strip()
        self._java(
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
        libs = self.ensure_jars()
        self.ensure_formatted(libs)
        logs = self.paths.kafka / "logs"
        began = time.monotonic()
        process = self.process.start(
            [
                "java",
                *self.jvm_heap,
                f"-Dlog4j2.configurationFile={LOG4J_CONFIG}",
                f"-Dkafka.logs.dir={logs}",
                "-cp",
                f"{libs}/*",
                "kafka.Kafka",
                str(self.config_file),
            ],
            log_file=logs / "stdout.log",
        )
        asyncio.run(self._wait_ready(process, within=timeout))
        return f"{self.label} {KAFKA_VERSION}: started on {self.bootstrap_servers} in {time.monotonic() - began:.1f}s"

    def stop(self) -> str:
        stopped = self.process.stop(timeout=60)
        return f"{self.label}: stopped" if stopped else f"{self.label}: was not running"

    def status(self) -> str:
        pid = self.process.pid()
        if pid is None:
            return f"{self.label}: stopped"
        return f"{self.label} {KAFKA_VERSION}: running (pid {pid}) on {self.bootstrap_servers}"

    async def _wait_ready(self, process: subprocess.Popen[bytes], within: float) -> None:
        deadline = time.monotonic() + within
        # aiokafka logs every refused connection while the broker boots; that is expected here.
        aiokafka_log = logging.getLogger("aiokafka")
        level = aiokafka_log.level
        aiokafka_log.setLevel(logging.CRITICAL)
        try:
            while not await self._answers():
                if process.poll() is not None:
                    raise LocalRuntimeError(f"{self.label} exited during start-up; see {self.paths.kafka / 'logs'}")
                if time.monotonic() > deadline:
                    logs = self.paths.kafka / "logs"
                    raise LocalRuntimeError(f"{self.label} not ready after {within:.0f}s; see {logs}")
                await asyncio.sleep(0.2)
        finally:
            aiokafka_log.setLevel(level)

    async def _answers(self) -> bool:
        """True when the broker answers a metadata request."""
        admin = AIOKafkaAdminClient(**client_options(self.admin_settings()), request_timeout_ms=2000)
        try:
            await admin.start()
            await admin.describe_cluster()
        except (KafkaError, OSError):
            return False
        finally:
            await admin.close()
        return True

    @staticmethod
    def _java(libs: Path, main: str, *args: str) -> str:
        result = subprocess.run(["java", "-cp", f"{libs}/*", main, *args], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalRuntimeError(f"{main} {' '.join(args)} failed:\n{result.stdout}{result.stderr}")
        return result.stdout
