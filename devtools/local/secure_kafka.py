"""A local broker with production's access control, to rehearse the ACL model before it reaches a cluster.

The same single KRaft node as `backbone up`'s (jars, formatting, readiness are LocalKafka's), except:
clients and the broker itself authenticate with SASL/SCRAM-SHA-512, one principal per service and per
agency; the authorizer refuses whatever no ACL allows; only `admin` is a super user. The ACLs are
`backbone/acl.py`'s, the very model `deploy/generate.py` writes production's from.

It has its own ports and its own home ($BACKBONE_HOME/secure), so it runs beside the development broker.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from pathlib import Path

from backbone.acl import Acl, read_principal_acls
from backbone.kafka import ensure_topics
from backbone.settings import KafkaSettings
from devtools.local.kafka import LocalKafka, LocalRuntimeError
from devtools.local.kafka_acls import create_acls
from devtools.local.paths import DEPLOY, LocalPaths
from devtools.local.scram import ADMIN, ScramUsers, write_private
from schemas.topics import ALL_TOPICS

SECURE_PORT = 29092
SECURE_CONTROLLER_PORT = 29093
SECURE_TEMPLATE = DEPLOY / "kafka" / "secure-server.properties.template"

Report = Callable[[str], None]


class SecureKafka(LocalKafka):
    label = "Secured Kafka"
    jvm_heap = ("128m", "384m")

    def __init__(self, home: Path, *, port: int = SECURE_PORT, controller_port: int = SECURE_CONTROLLER_PORT) -> None:
        super().__init__(LocalPaths(home), port=port, controller_port=controller_port)
        self.credentials_file = home / "credentials.json"

    @classmethod
    def default(cls) -> SecureKafka:
        """In $BACKBONE_HOME/secure, on 127.0.0.1:29092 (controller 29093)."""
        return cls(LocalPaths.default().home / "secure")

    def users(self) -> ScramUsers:
        return ScramUsers.load(self.credentials_file)

    def settings_for(self, principal: str) -> KafkaSettings:
        """The client settings of a principal (`svc-referral`, `agency-…`, `admin`) on this broker."""
        return self.users().settings(principal, self.bootstrap_servers)

    def admin_settings(self) -> KafkaSettings:
        return self.settings_for(ADMIN)

    def write_config(self) -> None:
        template = SECURE_TEMPLATE.read_text(encoding="utf-8")
        admin_password = self.users().passwords[ADMIN]
        text = template.format(
            log_dirs=self.data_dir,
            host=self.host,
            port=self.port,
            controller_port=self.controller_port,
            admin_password=admin_password,
        )
        write_private(self.config_file, text)  # it holds the admin's password

    def format_options(self) -> list[str]:
        return self.users().format_arguments()

    def up(self, report: Report) -> None:
        """Start it unless it runs, then create the topics and apply the ACL model (both idempotent)."""
        model = read_principal_acls()
        self._prepare_users([ADMIN, *model])
        if not self.jars_ready():
            report("Kafka: resolving jars (the first run downloads about 50 MB from Maven Central) …")
        report(self.start())
        created, applied = asyncio.run(self._provision(model))
        agencies = sum(principal.startswith("agency-") for principal in model)
        report(f"Topics: {len(ALL_TOPICS)} declared, {len(created)} created now (as {ADMIN})")
        report(
            f"ACLs: {applied} bindings for {len(model)} principals ({len(model) - agencies} services, "
            f"{agencies} agencies) from backbone/acl.py; everything else is refused"
        )
        report(f"Credentials: {self.credentials_file} (0600), every principal's password. A service connects with")
        for name, value in (
            ("BOOTSTRAP_SERVERS", self.bootstrap_servers),
            ("SECURITY_PROTOCOL", "SASL_PLAINTEXT"),
            ("SASL_USERNAME", "svc-<service>"),
            ("SASL_PASSWORD", "<its password in that file>"),
        ):
            report(f"  BACKBONE_KAFKA__{name}={value}")

    def down(self, report: Report, *, forget: bool = False) -> None:
        report(self.stop())
        if not forget:
            return
        home = self.paths.home
        if home.exists() and not (self.credentials_file.exists() or self.paths.kafka.exists()):
            raise LocalRuntimeError(f"{home} does not look like a secured broker's home; remove it yourself")
        shutil.rmtree(home, ignore_errors=True)
        report(f"{self.label}: data and credentials in {home} deleted; the next `up` formats it afresh")

    def describe(self) -> list[str]:
        lines = [self.status()]
        if self.credentials_file.exists():
            lines.append(f"credentials: {self.credentials_file}")
        return lines

    def _prepare_users(self, principals: list[str]) -> None:
        """Every principal needs a SCRAM credential, and those are written when the storage is formatted."""
        users = self.users()
        if not self.formatted:
            self.paths.home.mkdir(parents=True, exist_ok=True, mode=0o700)
            users.with_users(principals).save(self.credentials_file, bootstrap_servers=self.bootstrap_servers)
            return
        missing = users.missing(principals)
        if missing:
            shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
            raise LocalRuntimeError(
                f"{len(missing)} principal(s) have no credential on the secured broker ({shown}): new since it was "
                "formatted, or its credentials file is gone. Run `backbone secure-kafka down --forget`, then `up`."
            )

    async def _provision(self, model: dict[str, list[Acl]]) -> tuple[list[str], int]:
        admin = self.admin_settings()
        created = await ensure_topics(admin, ALL_TOPICS)
        applied = await create_acls(admin, [acl for rules in model.values() for acl in rules])
        return created, applied
