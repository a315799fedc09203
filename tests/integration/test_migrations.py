"""Migrations are applied in order, recorded, and safe to re-run; an edited one stops start-up."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
import pytest

from backbone.db import MigrationError, migrate


async def test_migrations_apply_once_and_refuse_an_edited_file(pool: asyncpg.Pool, tmp_path: Path) -> None:
    namespace = f"test-{uuid.uuid4().hex[:8]}"
    table = f"t_{uuid.uuid4().hex[:8]}"
    (tmp_path / "001_create.sql").write_text(f"CREATE TABLE {table} (id int);")
    (tmp_path / "002_fill.sql").write_text(f"INSERT INTO {table} VALUES (1), (2);")
    try:
        assert await migrate(pool, namespace, tmp_path) == [f"{namespace}/001_create.sql", f"{namespace}/002_fill.sql"]
        assert await migrate(pool, namespace, tmp_path) == []
        assert await pool.fetchval(f"SELECT count(*) FROM {table}") == 2

        (tmp_path / "002_fill.sql").write_text(f"INSERT INTO {table} VALUES (3);")
        with pytest.raises(MigrationError, match=r"002_fill\.sql was changed after it was applied"):
            await migrate(pool, namespace, tmp_path)
    finally:
        await pool.execute(f"DROP TABLE IF EXISTS {table}")
        await pool.execute("DELETE FROM schema_migrations WHERE name LIKE $1", f"{namespace}/%")
