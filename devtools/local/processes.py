"""Background processes that the local runtime starts, tracks by pid file and stops.

A pid file alone can outlive its process and the pid be reused, so a pid only counts as ours when
its command line still carries the marker the process was started with.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ManagedProcess:
    name: str
    pid_file: Path
    marker: str

    def pid(self) -> int | None:
        """The pid of the running process, or None when it is not running."""
        try:
            pid = int(self.pid_file.read_text().strip())
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError):
            return None
        if self.marker.encode() not in cmdline or ended(pid):
            return None
        return pid

    def start(
        self,
        argv: Sequence[str],
        *,
        log_file: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start detached (own session, so a terminal's Ctrl-C does not reach it) and record the pid.

        The caller watches the returned handle while the process starts up: a launcher that re-executes
        itself (the JVM's does) can show an empty command line for a moment, so `pid()` is for later.
        """
        log_file.parent.mkdir(parents=True, exist_ok=True)
        self.pid_file.parent.mkdir(parents=True, exist_ok=True)
        with log_file.open("ab") as log:
            process = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        self.pid_file.write_text(f"{process.pid}\n")
        return process

    def stop(self, *, timeout: float = 30.0) -> bool:
        """SIGTERM, wait up to `timeout`, then SIGKILL. Returns False when nothing was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.pid() is not None:
            time.sleep(0.1)
        if self.pid() is not None:
            _signal(pid, signal.SIGKILL)
            while self.pid() is not None:
                time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True

    def kill(self) -> bool:
        """SIGKILL, no chance to shut down cleanly (a crash, as fault tests need it); waits until it is gone.
        Returns False when nothing was running."""
        pid = self.pid()
        if pid is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        _signal(pid, signal.SIGKILL)
        while self.pid() is not None:
            time.sleep(0.05)
        self.pid_file.unlink(missing_ok=True)
        return True


def _signal(pid: int, signum: signal.Signals) -> None:
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        return


def ended(pid: int) -> bool:
    """Whether the process has ended: gone, or a zombie (exited, not yet reaped by its parent).

    A signal with number 0 still reaches a zombie, so it cannot tell; a service restarted by a long-lived
    command (the fault suite, the leak scan) is that command's child and stays a zombie after it exits
    until reaped. A zombie of our own is reaped here, so its pid is freed.
    """
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return True
    if fields[0] != "Z":
        return False
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    return True
