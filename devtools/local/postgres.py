"""A PostgreSQL server from Debian's package, with one role and one database per service.

The server runs from its own data directory on 127.0.0.1 (not the distribution's default cluster), so
it can be created, started and removed without touching anything else on the machine. PostgreSQL
refuses to run as root, so when we are root the server runs as the `postgres` user that Debian's
package creates, with its data under that user's home.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import secrets
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from devtools.local.kafka import LocalRuntimeError
from devtools.local.paths import LocalPaths
from devtools.local.realm import DEMO_STAFF

# One role and one database per service (the workbench's holds staff sessions only), plus `tests` for the
# runtime kit's own integration tests.
SERVICES_WITH_DATABASES = ("intake", "referral", "meetings", "notify", "audit", "workbench", "tests")


@dataclass(frozen=True)
class LocalSecrets:
    """Passwords and keys (intake's three, audit's signing key, the workbench's session key, the local identity
    provider's admin and demo staff members), generated on first use and kept in $BACKBONE_HOME/secrets.json
    (0600). The service keys are kept under `intake_keys`, the name of their first ones."""

    admin_password: str
    service_passwords: dict[str, str]
    intake_keys: dict[str, str]
    credential_keys: dict[str, str]
    keycloak_admin_password: str = ""
    demo_staff_passwords: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load_or_create(cls, path: Path) -> LocalSecrets:
        data: dict[str, object] = json.loads(path.read_text()) if path.exists() else {}
        admin = str(data.get("postgres_admin") or secrets.token_urlsafe(24))
        stored = data.get("services")
        services = {str(k): str(v) for k, v in stored.items()} if isinstance(stored, dict) else {}
        for name in SERVICES_WITH_DATABASES:
            services.setdefault(name, secrets.token_urlsafe(24))
        stored_keys = data.get("intake_keys")
        keys = {str(k): str(v) for k, v in stored_keys.items()} if isinstance(stored_keys, dict) else {}
        for name in ("master_key", "subject_key", "sealing_key", "audit_signing_key", "workbench_session_key"):
            keys.setdefault(name, base64.b64encode(secrets.token_bytes(32)).decode())
        stored_credential_keys = data.get("credential_keys")
        credential_keys = (
            {str(k): str(v) for k, v in stored_credential_keys.items()}
            if isinstance(stored_credential_keys, dict)
            else {}
        )
        for name in SERVICES_WITH_DATABASES:
            credential_keys.setdefault(name, base64.b64encode(secrets.token_bytes(32)).decode())
        keycloak_admin = str(data.get("keycloak_admin") or secrets.token_urlsafe(24))
        stored_demo = data.get("demo_staff")
        demo = {str(k): str(v) for k, v in stored_demo.items()} if isinstance(stored_demo, dict) else {}
        for member in DEMO_STAFF:
            demo.setdefault(member.username, secrets.token_urlsafe(12))
        result = cls(admin, services, keys, credential_keys, keycloak_admin, demo)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(
            json.dumps(
                {
                    "postgres_admin": admin,
                    "services": services,
                    "intake_keys": keys,
                    "credential_keys": credential_keys,
                    "keycloak_admin": keycloak_admin,
                    "demo_staff": demo,
                },
                indent=2,
            )
        )
        return result


class LocalPostgres:
    def __init__(self, paths: LocalPaths, *, port: int = 55432) -> None:
        self.paths = paths
        self.port = port
        self.as_root = os.geteuid() == 0
        base = Path("/var/lib/postgresql/fujisawa-backbone") if self.as_root else paths.postgres
        self.data_dir = base / "data"
        self.log_file = base / "postgres.log"

    def dsn(self, service: str, secrets_: LocalSecrets) -> str:
        return f"postgresql://{service}:{secrets_.service_passwords[service]}@127.0.0.1:{self.port}/{service}"

    def start(self) -> str:
        """Initialise on first use, start unless running, and make sure every service has its database."""
        bin_dir = self._bin_dir()
        local_secrets = LocalSecrets.load_or_create(self.paths.secrets)
        if not (self.data_dir / "PG_VERSION").exists():
            self._initdb(bin_dir, local_secrets.admin_password)
        if self._running(bin_dir):
            line = f"PostgreSQL: already running on 127.0.0.1:{self.port}"
        else:
            self._run(
                bin_dir / "pg_ctl",
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                "60",
                "start",
            )
            line = f"PostgreSQL {bin_dir.parent.name}: started on 127.0.0.1:{self.port}"
        asyncio.run(self._ensure_databases(local_secrets))
        return line + f" (databases: {', '.join(SERVICES_WITH_DATABASES)})"

    def stop(self) -> str:
        bin_dir = self._bin_dir()
        if not self._running(bin_dir):
            return "PostgreSQL: was not running"
        self._run(bin_dir / "pg_ctl", "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        return "PostgreSQL: stopped"

    def status(self) -> str:
        try:
            running = self._running(self._bin_dir())
        except LocalRuntimeError:
            return "PostgreSQL: not installed"
        return f"PostgreSQL: running on 127.0.0.1:{self.port}" if running else "PostgreSQL: stopped"

    def _initdb(self, bin_dir: Path, admin_password: str) -> None:
        base = self.data_dir.parent
        base.mkdir(parents=True, exist_ok=True)
        password_file = base / "initdb.pw"
        password_file.write_text(admin_password)
        if self.as_root:
            shutil.chown(base, "postgres", "postgres")
            shutil.chown(password_file, "postgres", "postgres")
        try:
            self._run(
                bin_dir / "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                "postgres",
                "-E",
                "UTF8",
                "--locale=C.UTF-8",
                "--auth=scram-sha-256",
                f"--pwfile={password_file}",
            )
        finally:
            password_file.unlink(missing_ok=True)
        settings = (
            "# Written by backbone: loopback only, sockets inside the data directory.\n"
            "listen_addresses = '127.0.0.1'\n"
            f"port = {self.port}\n"
            f"unix_socket_directories = '{self.data_dir}'\n"
            "max_connections = 300\n"
            "shared_buffers = 256MB\n"
        )
        with (self.data_dir / "postgresql.conf").open("a", encoding="utf-8") as conf:
            conf.write("\n" + settings)

    async def _ensure_databases(self, local_secrets: LocalSecrets) -> None:
        admin = await asyncpg.connect(
            host="127.0.0.1",
            port=self.port,
            user="postgres",
            password=local_secrets.admin_password,
            database="postgres",
        )
        try:
            await ensure_databases(admin, local_secrets)
        finally:
            await admin.close()

    def _bin_dir(self) -> Path:
        candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not candidates:
            raise LocalRuntimeError(
                "PostgreSQL server is not installed. Install it with: sudo apt-get install -y postgresql"
            )
        return candidates[-1].parent

    def _running(self, bin_dir: Path) -> bool:
        if not (self.data_dir / "PG_VERSION").exists():
            return False
        result = subprocess.run(
            [*self._as_owner(), str(bin_dir / "pg_ctl"), "-D", str(self.data_dir), "status"],
            capture_output=True,
            check=False,
        )
        return result.returncode == 0

    def _run(self, *command: str | Path) -> None:
        result = subprocess.run([*self._as_owner(), *map(str, command)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalRuntimeError(
                f"{Path(command[0]).name} failed ({result.returncode}):\n"
                f"{result.stdout}{result.stderr}\nlog: {self.log_file}"
            )

    def _as_owner(self) -> list[str]:
        return ["runuser", "-u", "postgres", "--"] if self.as_root else []


async def ensure_databases(admin: asyncpg.Connection, local_secrets: LocalSecrets) -> None:
    """One login role and one database per service, each password the one kept in secrets.json; idempotent."""
    for service in SERVICES_WITH_DATABASES:
        password = local_secrets.service_passwords[service]
        role_exists = await admin.fetchval("SELECT 1 FROM pg_roles WHERE rolname = $1", service)
        verb = "ALTER" if role_exists else "CREATE"
        # Identifiers come from our own constant list; the password is quoted by the server.
        quoted = await admin.fetchval("SELECT quote_literal($1)", password)
        await admin.execute(f'{verb} ROLE "{service}" LOGIN PASSWORD {quoted}')
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", service):
            await admin.execute(f'CREATE DATABASE "{service}" OWNER "{service}"')
        await admin.execute(f'REVOKE ALL ON DATABASE "{service}" FROM PUBLIC')


async def fetch(dsn: str, query: str, *args: object) -> list[asyncpg.Record]:
    """One query's rows, on a connection of its own: what the fault checker and the benchmarks read afterwards."""
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()
