"""`backbone up --ha` chooses the PostgreSQL pair for this home, and `backbone up` the single server again: the
choice outlives the command, the services' DSN names both nodes and asks for the writable one, and the commands
that break or measure the single server refuse to run against the pair."""

from __future__ import annotations

from pathlib import Path

import pytest

from devtools.local.ha_postgres import LocalHaPostgres
from devtools.local.kafka import LocalRuntimeError
from devtools.local.postgres import LocalPostgres
from devtools.local.stack import LocalStack


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own; and no server is stopped for real: as root the single server's data lives outside any
    home (/var/lib/postgresql), so stopping it here would stop the one the rest of the machine uses."""
    monkeypatch.setenv("BACKBONE_HOME", str(tmp_path))
    monkeypatch.setattr(LocalPostgres, "stop", lambda _self: "PostgreSQL: stopped")
    monkeypatch.setattr(LocalHaPostgres, "stop", lambda _self: "PostgreSQL HA: stopped")
    monkeypatch.setattr(LocalStack, "down_services", lambda _self, _report: None)
    return tmp_path


def test_the_choice_is_kept_until_changed_back(home: Path) -> None:
    assert LocalStack.default().ha is None
    chosen = LocalStack.default().choose_postgres(ha=True, report=lambda _line: None)
    assert isinstance(chosen.database, LocalHaPostgres)
    assert isinstance(LocalStack.default().database, LocalHaPostgres)  # a later command sees the choice
    LocalStack.default().choose_postgres(ha=False, report=lambda _line: None)
    assert LocalStack.default().ha is None and not (home / "postgres-ha").exists()


def test_the_services_dsn_names_both_nodes_and_asks_for_the_writable_one(home: Path) -> None:
    stack = LocalStack.default().choose_postgres(ha=True, report=lambda _line: None)
    dsn = stack.settings_for("referral").database.dsn.get_secret_value()
    assert "@127.0.0.1:55441,127.0.0.1:55442/referral?target_session_attrs=read-write" in dsn


def test_a_command_that_measures_the_single_server_refuses_the_pair(home: Path) -> None:
    from devtools.commands import _single_server_stack  # noqa: PLC0415

    LocalStack.default().choose_postgres(ha=True, report=lambda _line: None)
    with pytest.raises(LocalRuntimeError, match="backbone up --infra"):
        _single_server_stack()
