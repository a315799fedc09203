"""The whole local backbone: Kafka, PostgreSQL, the topics, the identity provider and the service processes."""

from __future__ import annotations

import asyncio
import dataclasses
import os
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import httpx
from pydantic import SecretStr

from backbone.kafka import ensure_topics
from backbone.settings import DatabaseSettings, HttpSettings, KafkaSettings, ServiceName, ServiceSettings
from backbone.staff import IdentitySettings
from devtools.local.cluster import LocalKafkaCluster
from devtools.local.ha_postgres import LocalHaPostgres
from devtools.local.kafka import LocalKafka, LocalRuntimeError
from devtools.local.keycloak import LocalKeycloak
from devtools.local.mail import LocalMail
from devtools.local.paths import LocalPaths
from devtools.local.postgres import LocalPostgres, LocalSecrets
from devtools.local.processes import ManagedProcess
from devtools.local.realm import WORKBENCH_URL
from devtools.local.releases import Release
from schemas.topics import ALL_TOPICS
from services.workbench.settings import WorkbenchOptions, WorkbenchSettings

# The services `backbone up` runs, with their HTTP ports on 127.0.0.1.
SERVICE_PORTS: dict[ServiceName, int] = {
    "intake": 8101,
    "referral": 8102,
    "meetings": 8103,
    "notify": 8104,
    "audit": 8105,
}

# Benchmarks, the fault suite and the leak scan leave urgent referrals unanswered and notifications
# unacknowledged by the thousand: with the usual windows (4 hours, 15 minutes) they would escalate in the
# middle of later runs. While those tools measure, the services run with windows of 30 days.
MEASURING = {"BACKBONE_REFERRAL__URGENT_HOURS": "720", "BACKBONE_NOTIFY__ACK_URGENT_MINUTES": "43200"}

# The main job and the simulated day show a working day at whatever hour they run, so normal notifications
# go out at once instead of waiting for 08:00 in Tokyo (equal start and end: no quiet hours).
NO_QUIET_HOURS = {"BACKBONE_NOTIFY__QUIET_START": "00:00", "BACKBONE_NOTIFY__QUIET_END": "00:00"}

WORKBENCH_PORT = int(WORKBENCH_URL.rsplit(":", 1)[1])
"""The workbench's port: the local realm's redirect URI names it."""

AGENCY_FACING: tuple[ServiceName, ...] = ("intake", "referral", "meetings", "notify", "audit")
"""Services that agencies call with their tokens."""

Report = Callable[[str], None]


@dataclass(frozen=True)
class LocalStack:
    paths: LocalPaths
    kafka: LocalKafka
    postgres: LocalPostgres
    mail: LocalMail
    kafka_cluster: LocalKafkaCluster | None = None
    """The three-broker cluster, when the services are to use it instead of the single broker (the fault suite's
    cluster scenario does this; `backbone cluster up` alone leaves the services on the single broker)."""
    ha: LocalHaPostgres | None = None
    """The PostgreSQL pair with automatic failover, when `backbone up --ha` chose it; then the services use it,
    and the single server (`postgres`, which the fault suite and the benchmarks break and measure) rests."""

    @classmethod
    def default(cls) -> LocalStack:
        paths = LocalPaths.default()
        ha = LocalHaPostgres(paths) if paths.ha_marker.exists() else None
        return cls(paths, LocalKafka(paths), LocalPostgres(paths), LocalMail(paths), ha=ha)

    def choose_postgres(self, *, ha: bool, report: Report) -> LocalStack:
        """The stack with the single server or the pair, as `backbone up [--ha]` asks; the choice is kept in
        $BACKBONE_HOME, so later commands use the same. Services running against the other one are stopped."""
        if ha == (self.ha is not None):
            return self
        self.down_services(report)
        if ha:
            report(self.postgres.stop())
            self.paths.ha_marker.parent.mkdir(parents=True, exist_ok=True)
            self.paths.ha_marker.write_text("backbone up --ha\n")
            return dataclasses.replace(self, ha=LocalHaPostgres(self.paths))
        assert self.ha is not None
        report(self.ha.stop())
        self.paths.ha_marker.unlink(missing_ok=True)
        return dataclasses.replace(self, ha=None)

    @property
    def bootstrap_servers(self) -> str:
        """The Kafka the services use."""
        return (self.kafka_cluster or self.kafka).bootstrap_servers

    @property
    def database(self) -> LocalPostgres | LocalHaPostgres:
        """The PostgreSQL the services use."""
        return self.ha or self.postgres

    @property
    def keycloak(self) -> LocalKeycloak:
        """The local identity provider staff sign in with (realm `fujisawa`)."""
        return LocalKeycloak(self.paths)

    def settings_for(self, service: ServiceName) -> ServiceSettings:
        """What a service needs to run against this stack (tests use this too)."""
        local_secrets = LocalSecrets.load_or_create(self.paths.secrets)
        return ServiceSettings(
            service=service,
            database=DatabaseSettings(dsn=self.database.dsn(service, local_secrets)),
            kafka=KafkaSettings(bootstrap_servers=self.bootstrap_servers),
            http=HttpSettings(port=SERVICE_PORTS.get(service, 8100)),
            credentials_key=local_secrets.credential_keys[service] if service in AGENCY_FACING else None,
            identity=IdentitySettings(issuer=self.keycloak.issuer),  # staff sign in at the local Keycloak
        )

    def workbench_settings(self) -> WorkbenchSettings:
        """What the workbench needs to run against this stack: its database, the local Keycloak, the services."""
        local_secrets = LocalSecrets.load_or_create(self.paths.secrets)
        return WorkbenchSettings(
            database=DatabaseSettings(dsn=self.database.dsn("workbench", local_secrets)),
            identity=IdentitySettings(issuer=self.keycloak.issuer),
            workbench=WorkbenchOptions(
                public_url=WORKBENCH_URL,
                intake_url=self.base_url("intake"),
                referral_url=self.base_url("referral"),
                meetings_url=self.base_url("meetings"),
                notify_url=self.base_url("notify"),
                audit_url=self.base_url("audit"),
                session_key=SecretStr(local_secrets.intake_keys["workbench_session_key"]),
            ),
            http=HttpSettings(port=WORKBENCH_PORT),
        )

    def intake_keys(self) -> dict[str, str]:
        """intake's local keys (master, subject, sealing), base64, as BACKBONE_INTAKE__* would carry them."""
        keys = LocalSecrets.load_or_create(self.paths.secrets).intake_keys
        return {name: keys[name] for name in ("master_key", "subject_key", "sealing_key")}

    def audit_settings(self) -> dict[str, str]:
        """audit's signing key and where its checkpoints go, as BACKBONE_AUDIT__* would carry them."""
        return {
            "signing_key": LocalSecrets.load_or_create(self.paths.secrets).intake_keys["audit_signing_key"],
            # The pair's ledger is another chain than the single server's: its checkpoints go to a file of their own.
            "checkpoint_file": str(
                self.paths.home / "audit" / ("checkpoints-ha.jsonl" if self.ha else "checkpoints.jsonl")
            ),
        }

    def base_url(self, service: ServiceName) -> str:
        return f"http://127.0.0.1:{SERVICE_PORTS[service]}"

    def up_infrastructure(self, report: Report) -> None:
        keycloak = self.keycloak
        if not keycloak.installed:
            report("Keycloak: fetching and unpacking the server (the first run downloads about 180 MB) …")
        keycloak_ready = keycloak.launch()  # its JVM boots while Kafka and PostgreSQL start
        if not self.kafka.jars_ready():
            report("Kafka: resolving jars (the first run downloads about 50 MB from Maven Central) …")
        report(self.kafka.start())
        report(self.database.start())
        created = asyncio.run(ensure_topics(self.kafka.bootstrap_servers, ALL_TOPICS))
        report(f"Topics: {len(ALL_TOPICS)} declared, {len(created)} created now")
        report(keycloak_ready(180.0))  # the first start also builds the server (about 40 s)

    def up_services(self, report: Report, *, extra_env: Mapping[str, str] | None = None) -> None:
        """Start the services that are not running; `extra_env` adds settings (the main job's pacing)."""
        report(self.mail.start())
        for service in SERVICE_PORTS:
            report(self._start_service(service, extra_env or {}))
        report(self._start_workbench())

    def down(self, report: Report) -> None:
        self.down_services(report)
        report(self.mail.stop())
        report(self.kafka.stop())
        report(self.database.stop())
        report(self.keycloak.stop())

    def set_world_aside(self, report: Report) -> None:
        """Stop everything but the identity provider and move the world's data aside: the topics, the databases,
        the mailbox and audit's checkpoints. What starts next begins from an empty world, as on a fresh machine.

        Why: the main job and the walkthrough compress deadlines to seconds. In a world that tests, benchmarks and
        earlier days have filled, every referral they left unanswered falls due at once and escalates, and the
        run drowns in their mail. The data set aside is kept beside where it was (`<name>.earlier`) until the next
        time, so the last world can still be looked at or moved back; the one before it is deleted."""
        self.down_services(report)
        report(self.mail.stop())
        report(self.kafka.stop())
        report(self.postgres.stop())
        for place in (self.kafka.data_dir, self.postgres.data_dir, self.mail.maildir, self.paths.home / "audit"):
            if not place.exists():
                continue
            aside = place.with_name(f"{place.name}.earlier")
            if aside.exists():
                report(f"Deleting the world set aside last time: {aside} …")  # a kept mailbox takes minutes
                shutil.rmtree(aside)
            place.rename(aside)
            report(f"Set aside: {place} → {aside.name}")

    def down_services(self, report: Report) -> None:
        if self.workbench_process.stop(timeout=20):
            report("workbench: stopped")
        for service in SERVICE_PORTS:
            if self._process(service).stop(timeout=20):
                report(f"{service}: stopped")

    def restart_services(self, extra_env: Mapping[str, str], report: Report = lambda _line: None) -> None:
        """Stop every service and start it again with `extra_env` added to its settings."""
        self.down_services(report)
        self.up_services(report, extra_env=extra_env)

    def restart_service(
        self, service: ServiceName, extra_env: Mapping[str, str], *, release: Release | None = None
    ) -> str:
        """Stop one service and start it again with `extra_env` added to its settings; from an earlier
        release's code when one is given (a rolling upgrade's or a rollback's step), else from today's."""
        self._process(service).stop(timeout=20)
        return self._start_service(service, extra_env, release=release)

    def status(self) -> list[str]:
        lines = [self.kafka.status(), self.database.status(), self.keycloak.status(), self.mail.status()]
        for service in SERVICE_PORTS:
            pid = self._process(service).pid()
            state = f"running (pid {pid}) on {self.base_url(service)}" if pid else "stopped"
            if pid and not self._ready(service):
                state += ", NOT READY (see " + str(self.paths.log_file(service)) + ")"
            lines.append(f"{service}: {state}")
        pid = self.workbench_process.pid()
        lines.append(f"workbench: running (pid {pid}) on {WORKBENCH_URL}" if pid else "workbench: stopped")
        return lines

    def process(self, service: ServiceName, instance: int = 1) -> ManagedProcess:
        """A service's process; instances beyond the first join the same consumer group (scale-out)."""
        if instance == 1:
            return ManagedProcess(service, self.paths.pid_file(service), marker=f"serve\0{service}")
        name = f"{service}-{instance}"
        return ManagedProcess(name, self.paths.pid_file(name), marker=f"serve\0{service}\0--instance\0{instance}")

    def instance_url(self, service: ServiceName, instance: int = 1) -> str:
        """Instance n of a service listens 100·(n−1) ports above the first (intake 2: 8201)."""
        return f"http://127.0.0.1:{SERVICE_PORTS[service] + 100 * (instance - 1)}"

    def start_instance(
        self,
        service: ServiceName,
        instance: int,
        *,
        extra_env: Mapping[str, str] | None = None,
        release: Release | None = None,
    ) -> str:
        """Start one more instance of a service (not audit: its hash chain has one writer)."""
        if service == "audit" and instance != 1:
            raise LocalRuntimeError("audit runs as one instance: its ledger is one hash chain with one writer")
        return self._start_service(service, extra_env or {}, instance=instance, release=release)

    def stop_instance(self, service: ServiceName, instance: int) -> bool:
        return self.process(service, instance).stop(timeout=20)

    @property
    def workbench_process(self) -> ManagedProcess:
        return ManagedProcess("workbench", self.paths.pid_file("workbench"), marker="serve\0workbench")

    def _process(self, service: ServiceName) -> ManagedProcess:
        return self.process(service)

    def _start_service(
        self, service: ServiceName, extra_env: Mapping[str, str], *, instance: int = 1, release: Release | None = None
    ) -> str:
        process = self.process(service, instance)
        url = self.instance_url(service, instance)
        label = service if instance == 1 else f"{service} (instance {instance})"
        if release is not None:
            label += f" from {release.label}"
        if process.pid() is not None:
            return f"{label}: already running on {url}"
        settings = self.settings_for(service)
        env = {
            **os.environ,
            "BACKBONE_SERVICE": service,
            "BACKBONE_DATABASE__DSN": settings.database.dsn.get_secret_value(),
            "BACKBONE_KAFKA__BOOTSTRAP_SERVERS": settings.kafka.bootstrap_servers,
            "BACKBONE_HTTP__PORT": url.rsplit(":", 1)[1],
        }
        if settings.credentials_key is not None:
            env["BACKBONE_CREDENTIALS_KEY"] = settings.credentials_key.get_secret_value()
        if settings.identity is not None:
            env["BACKBONE_IDENTITY__ISSUER"] = settings.identity.issuer
        env |= extra_env
        if service == "intake":
            env |= {f"BACKBONE_INTAKE__{name.upper()}": value for name, value in self.intake_keys().items()}
        if service == "audit":
            env |= {f"BACKBONE_AUDIT__{name.upper()}": value for name, value in self.audit_settings().items()}
        if release is not None:
            env |= release.environment()
        argv = [release.python if release else sys.executable, "-m", "console.main", "serve", service]
        if instance != 1:
            argv += ["--instance", str(instance)]
        return self._launch(process, argv, env, url=url, label=label, cwd=release.source if release else None)

    def _start_workbench(self) -> str:
        process = self.workbench_process
        if process.pid() is not None:
            return f"workbench: already running on {WORKBENCH_URL}"
        settings = self.workbench_settings()
        options = settings.workbench
        env = {
            **os.environ,
            "BACKBONE_DATABASE__DSN": settings.database.dsn.get_secret_value(),
            "BACKBONE_IDENTITY__ISSUER": settings.identity.issuer,
            "BACKBONE_HTTP__PORT": str(settings.http.port),
            "BACKBONE_WORKBENCH__PUBLIC_URL": options.public_url,
            "BACKBONE_WORKBENCH__INTAKE_URL": options.intake_url,
            "BACKBONE_WORKBENCH__REFERRAL_URL": options.referral_url,
            "BACKBONE_WORKBENCH__MEETINGS_URL": options.meetings_url,
            "BACKBONE_WORKBENCH__NOTIFY_URL": options.notify_url,
            "BACKBONE_WORKBENCH__AUDIT_URL": options.audit_url,
        }
        if options.session_key is not None:
            env["BACKBONE_WORKBENCH__SESSION_KEY"] = options.session_key.get_secret_value()
        argv = [sys.executable, "-m", "console.main", "serve", "workbench"]
        started = self._launch(process, argv, env, url=WORKBENCH_URL, label="workbench")
        return f"{started}; sign in with a demo login (backbone demo-login)"

    def _launch(
        self,
        process: ManagedProcess,
        argv: list[str],
        env: dict[str, str],
        *,
        url: str,
        label: str,
        cwd: Path | None = None,
    ) -> str:
        """Start the process (in `cwd`, whose packages then come first) and wait until `url`/ready answers 200
        (60 s at most)."""
        began = time.monotonic()
        log_file = self.paths.log_file(process.name)
        handle = process.start(argv, log_file=log_file, env=env, cwd=cwd)
        deadline = began + 60
        while not _ready(url):
            if handle.poll() is not None:
                raise LocalRuntimeError(f"{label} exited during start-up; see {log_file}")
            if time.monotonic() > deadline:
                raise LocalRuntimeError(f"{label} not ready after 60s; see {log_file}")
            time.sleep(0.2)
        return f"{label}: started on {url} in {time.monotonic() - began:.1f}s (log: {log_file})"

    def _ready(self, service: ServiceName, instance: int = 1) -> bool:
        return _ready(self.instance_url(service, instance))


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/ready", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
