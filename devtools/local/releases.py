"""An earlier release of the backbone's own code, unpacked beside today's so that the two can run side by side.

A rolling upgrade replaces one service at a time: for a while, services of the last release read what today's
write, and today's read what the last release's write. The fault suite's upgrade scenarios rehearse exactly that
on the local stack, so they need the last release's code — its services, its kit and its contracts — as it was.

Which release: the code as it stood just before the latest change to the released contracts
(`schemas/released/`). That change is the one a rolling upgrade must survive; the commit before it is what
agencies and the other services were running when it shipped. It comes from the project's git history, so a
shallow clone cannot rehearse it (the error says how to deepen it).
"""

from __future__ import annotations

import io
import shutil
import subprocess
import sys
import tarfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from devtools.local.kafka import LocalRuntimeError
from devtools.local.paths import REPO

RELEASED = "schemas/released"
LOCK = "requirements.lock"


@dataclass(frozen=True)
class Release:
    commit: str
    source: Path  # the release's files, as `git archive` gives them
    python: str  # an interpreter with the release's pinned packages

    @property
    def label(self) -> str:
        return f"release {self.commit[:10]}"

    def environment(self) -> dict[str, str]:
        """What a process needs to run the release's code instead of today's: its source first on the path."""
        return {"PYTHONPATH": str(self.source)}


def release_at(home: Path, report: Callable[[str], None] = lambda _line: None, *, commit: str | None = None) -> Release:
    """The release at `commit`, by default the one before the latest contract change, unpacked under
    `home`/releases (once; later calls reuse it)."""
    if commit is None:
        latest_change = _git("log", "-n1", "--format=%H", "--", RELEASED)
        if not latest_change:
            raise LocalRuntimeError(f"git history has no change to {RELEASED}: there is no earlier release to run")
        what = f"the commit before {latest_change[:10]} (the latest change to {RELEASED})"
        commit = _resolved(f"{latest_change}^", what)
    else:
        commit = _resolved(commit, commit)
    place = home / "releases" / commit
    if not (place / ".unpacked").exists():
        report(f"unpacking release {commit[:10]} into {place} …")
        shutil.rmtree(place, ignore_errors=True)
        archive = subprocess.run(["git", "-C", str(REPO), "archive", commit], check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(place, filter="data")
        (place / ".unpacked").touch()
    return Release(commit, place, _interpreter(place, report))


def _resolved(revision: str, what: str) -> str:
    commit = _git("rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if not commit:
        raise LocalRuntimeError(
            f"{what} is not in this clone's history, so that release cannot be run. Deepen the clone"
            " (`git fetch --unshallow`), or name a commit that `git log` shows."
        )
    return commit


def _interpreter(place: Path, report: Callable[[str], None]) -> str:
    """Today's interpreter when the release pinned the same packages; otherwise a virtual environment of its own."""
    if (place / LOCK).read_bytes() == (REPO / LOCK).read_bytes():
        return sys.executable
    venv = place / ".venv"
    python = venv / "bin" / "python"
    if not (venv / ".installed").exists():
        report(f"installing the release's pinned packages into {venv} (its {LOCK} differs from today's) …")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(python), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        subprocess.run([*pip, "-r", str(place / LOCK)], check=True)
        (venv / ".installed").touch()
    return str(python)


def _git(*args: str) -> str:
    try:
        done = subprocess.run(["git", "-C", str(REPO), *args], capture_output=True, text=True, check=False)
    except FileNotFoundError as error:
        message = "git is not installed: the earlier release is read from the project's history"
        raise LocalRuntimeError(message) from error
    return done.stdout.strip() if done.returncode == 0 else ""
