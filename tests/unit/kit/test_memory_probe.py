"""The memory probe: off unless tracemalloc traces and a directory is named; then a first SIGUSR1 writes a
baseline and a later one the source lines whose held memory grew, with this test's own allocation among them."""

from __future__ import annotations

import os
import signal
import tracemalloc
from pathlib import Path

import pytest

from backbone import memory_probe


def test_without_tracing_nothing_is_installed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBONE_MEMORY_PROBE", str(tmp_path))
    before = signal.getsignal(signal.SIGUSR1)
    memory_probe.install_if_asked("intake")
    assert signal.getsignal(signal.SIGUSR1) is before and not list(tmp_path.iterdir())


def test_a_growth_since_the_baseline_is_named_by_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBONE_MEMORY_PROBE", str(tmp_path))
    before = signal.getsignal(signal.SIGUSR1)
    tracemalloc.start()
    try:
        memory_probe.install_if_asked("intake")
        os.kill(os.getpid(), signal.SIGUSR1)
        kept = [bytearray(1024) for _ in range(2000)]  # about 2 MiB held on this line
        os.kill(os.getpid(), signal.SIGUSR1)
    finally:
        tracemalloc.stop()
        signal.signal(signal.SIGUSR1, before)
    (written,) = tmp_path.iterdir()
    text = written.read_text()
    assert written.name == f"intake-{os.getpid()}.txt" and "baseline" in text
    assert "test_memory_probe.py:" in text.split("grew most", 1)[1] and len(kept) == 2000
