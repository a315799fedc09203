"""The release a rolling upgrade starts from: the code just before the latest change to the released contracts."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from devtools.local.kafka import LocalRuntimeError
from devtools.local.paths import REPO
from devtools.local.releases import RELEASED, release_at


def git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True, capture_output=True, text=True).stdout.strip()


def test_the_release_is_the_commit_before_the_latest_contract_change_unpacked_once(tmp_path: Path) -> None:
    release = release_at(tmp_path)
    latest_change = git("log", "-n1", "--format=%H", "--", RELEASED)
    assert release.commit == git("rev-parse", f"{latest_change}^")
    assert (release.source / "console" / "main.py").is_file()
    assert release.environment() == {"PYTHONPATH": str(release.source)}
    # What that change released is not yet in the release before it.
    changed = git("diff", "--name-only", release.commit, latest_change, "--", RELEASED).split()
    assert changed
    for name in changed:
        before = release.source / name
        shown = ["git", "-C", str(REPO), "show", f"{latest_change}:{name}"]
        released = subprocess.run(shown, check=True, capture_output=True)
        assert not before.exists() or before.read_bytes() != released.stdout
    assert release_at(tmp_path) == release  # the second call reuses what the first unpacked


def test_a_commit_the_history_does_not_have_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(LocalRuntimeError, match="git fetch --unshallow"):
        release_at(tmp_path, commit="0" * 40)
