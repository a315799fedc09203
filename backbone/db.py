"""The database pool and SQL migrations, applied at start: ordered, recorded, safe to re-run.

Migrations are plain .sql files named NNN_what.sql. The kit's own (outbox, inbox) come first under
the name `backbone`, then the service's. Each file runs in its own transaction and is recorded with
its checksum; a file changed after it was applied stops start-up rather than leaving the schema in
an unknown state. An advisory lock lets several instances of a service start together.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TypeAlias

import asyncpg
from asyncpg.pool import PoolConnectionProxy

from backbone.settings import DatabaseSettings

Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"
"""A connection, whether opened directly or borrowed from a pool."""

OUTAGES: tuple[type[Exception], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.SerializationError,
    asyncpg.DeadlockDetectedError,
)
"""The database or the network is down, or PostgreSQL gave up a transaction that may well succeed when tried
again (a serialization failure, a deadlock): waiting and trying again helps, and the work itself is fine. A
consumer retries it without spending an attempt (backbone/delivery.py); an HTTP request is answered 503 with
Retry-After (backbone/http.py)."""

KIT_MIGRATIONS = Path(__file__).parent / "migrations"
_MIGRATION_LOCK = 727_001  # any constant shared by every instance of every service


class MigrationError(RuntimeError):
    """A migration cannot be applied; the message names the file."""


@dataclass(frozen=True)
class Migration:
    namespace: str
    path: Path

    @property
    def name(self) -> str:
        return f"{self.namespace}/{self.path.name}"

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


async def create_pool(settings: DatabaseSettings) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn=settings.dsn.get_secret_value(),
        min_size=settings.pool_min,
        max_size=settings.pool_max,
        reset=_keep_session,
    )
    if pool is None:  # asyncpg's typing allows it; it never happens with a dsn
        raise RuntimeError("asyncpg returned no pool")
    return pool


async def _keep_session(_conn: asyncpg.Connection) -> None:
    """What the pool does to a connection given back, beyond what asyncpg always does (roll back an open
    transaction, drop its listeners): nothing. asyncpg's default also runs `pg_advisory_unlock_all(); CLOSE ALL;
    UNLISTEN *; RESET ALL`, a round trip on every release (several per request and per consumed batch), to undo
    session state. The backbone leaves none on a pooled connection: every lock it takes on one is a transaction's
    (`pg_advisory_xact_lock`), a cursor lives in its transaction, LISTEN has a connection of its own that
    UNLISTENs before it goes back (`backbone.loops.Wakeup`), and nothing runs `SET` outside a transaction. The one
    session-level lock, the migrations', is taken on a connection that is closed afterwards (`migrate`)."""


def migrations_for(namespace: str, folder: Path) -> list[Migration]:
    return [Migration(namespace, path) for path in sorted(folder.glob("[0-9][0-9][0-9]_*.sql"))]


async def migrate(pool: asyncpg.Pool, service: str, service_migrations: Path) -> list[str]:
    """Apply what is not yet applied; returns the names applied now."""
    wanted = migrations_for("backbone", KIT_MIGRATIONS) + migrations_for(service, service_migrations)
    applied_now: list[str] = []
    async with pool.acquire() as conn:
        try:
            await conn.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {row["name"]: row["checksum"] for row in await conn.fetch("SELECT * FROM schema_migrations")}
            for migration in wanted:
                if migration.name in done:
                    if done[migration.name] != migration.checksum:
                        raise MigrationError(
                            f"{migration.path} was changed after it was applied; "
                            "add a new migration file instead of editing an applied one"
                        )
                    continue
                async with conn.transaction():
                    await conn.execute(migration.path.read_text(encoding="utf-8"))
                    await conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES ($1, $2)",
                        migration.name,
                        migration.checksum,
                    )
                applied_now.append(migration.name)
        finally:
            # The lock is the session's: the session ends here (the pool opens a new one when it needs it), so no
            # pooled connection keeps the lock, however the migrations ended.
            await conn.close(timeout=5)
    return applied_now
