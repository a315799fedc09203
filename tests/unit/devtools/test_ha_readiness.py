"""The local PostgreSQL pair is ready only when the monitor shows a healthy primary and standby, and keeps showing
them: a kept pair's monitor first shows its last run's states, which the keepers' first reports can still change."""

from __future__ import annotations

import pytest

from devtools.local.ha_postgres import LocalHaPostgres, NodeState
from devtools.local.kafka import LocalRuntimeError
from devtools.local.paths import LocalPaths


def _pair(tmp_path_factory: pytest.TempPathFactory) -> LocalHaPostgres:
    return LocalHaPostgres(LocalPaths(tmp_path_factory.mktemp("home")), monitor_port=55460, node_ports=(55461, 55462))


def test_a_standby_the_monitor_finds_unhealthy_is_not_replicating(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    pair = _pair(tmp_path_factory)
    shown = [
        NodeState("node1", 55461, "primary", "primary", True),
        NodeState("node2", 55462, "secondary", "secondary", False),
    ]
    monkeypatch.setattr(pair, "state", lambda: shown)
    assert not pair.replicating()
    shown[1] = NodeState("node2", 55462, "secondary", "secondary", True)
    assert pair.replicating()


def test_a_steady_wait_starts_again_when_the_check_stops_holding(tmp_path_factory: pytest.TempPathFactory) -> None:
    pair = _pair(tmp_path_factory)
    answers = iter([True, False, True, True, True, True])  # checked every 0.3 s
    asked = 0

    def check() -> bool:
        nonlocal asked
        asked += 1
        return next(answers)

    pair.wait_until(check, within=10, what="the answers", steady=0.5)
    assert asked == 5, "held from the 3rd answer on, and 0.5 s in a row only at the 5th"
    with pytest.raises(LocalRuntimeError, match="waited 1s for never"):
        pair.wait_until(lambda: False, within=1, what="never")
