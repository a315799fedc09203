"""The memory probe: without a directory, SIGUSR2 logs what the allocators hold; with one, each SIGUSR2 appends it, and
Python's objects grown by this test show in it; with tracemalloc tracing, a first SIGUSR1 writes a baseline and a
later one the source lines whose held memory grew, with this test's own allocation among them."""

from __future__ import annotations

import csv
import gc
import logging
import os
import signal
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

import pytest

from backbone import memory_probe


@pytest.fixture(autouse=True)
def _handlers_restored() -> Iterator[None]:
    before = {signum: signal.getsignal(signum) for signum in (signal.SIGUSR1, signal.SIGUSR2)}
    yield
    for signum, handler in before.items():
        signal.signal(signum, handler)


def test_without_a_directory_sigusr2_logs_what_the_allocators_hold(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("BACKBONE_MEMORY_PROBE", raising=False)
    memory_probe.install_if_asked("intake")
    with caplog.at_level(logging.INFO, logger="backbone.memory_probe"):
        os.kill(os.getpid(), signal.SIGUSR2)  # the default action would end the process: the handler is there
    (line,) = [record.getMessage() for record in caplog.records if record.name == "backbone.memory_probe"]
    assert line.startswith("memory: pymalloc arenas ") and "malloc free" in line and "full collections " in line


def test_without_tracing_only_the_allocators_are_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBONE_MEMORY_PROBE", str(tmp_path))
    before = signal.getsignal(signal.SIGUSR1)
    memory_probe.install_if_asked("intake")
    assert signal.getsignal(signal.SIGUSR1) is before and not list(tmp_path.iterdir())


def test_each_sigusr2_appends_what_the_allocators_hold(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBONE_MEMORY_PROBE", str(tmp_path))
    memory_probe.install_if_asked("intake")
    os.kill(os.getpid(), signal.SIGUSR2)
    kept = [object() for _ in range(200_000)]  # small objects: pymalloc's, about 3 MiB
    os.kill(os.getpid(), signal.SIGUSR2)
    (written,) = tmp_path.iterdir()
    with written.open() as source:
        first, second = ({k: int(v) for k, v in row.items()} for row in csv.DictReader(source))
    assert written.name == f"intake-{os.getpid()}-allocators.csv" and len(kept) == 200_000
    assert second["pymalloc_used"] - first["pymalloc_used"] >= 200_000 * 16
    assert all(first[name] >= 0 for name in memory_probe.ALLOCATOR_FIGURES) and first["malloc_heap"] > 0
    gc.collect()
    assert memory_probe.full_collections() > second["full_collections"]


def test_a_growth_since_the_baseline_is_named_by_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BACKBONE_MEMORY_PROBE", str(tmp_path))
    tracemalloc.start(4)
    try:
        memory_probe.install_if_asked("intake")
        os.kill(os.getpid(), signal.SIGUSR1)
        kept = [bytearray(1024) for _ in range(2000)]  # about 2 MiB held on this line
        os.kill(os.getpid(), signal.SIGUSR1)
    finally:
        tracemalloc.stop()
    (written,) = tmp_path.glob("*.txt")
    text = written.read_text()
    assert written.name == f"intake-{os.getpid()}.txt" and "baseline" in text
    assert "test_memory_probe.py:" in text.split("grew most", 1)[1] and len(kept) == 2000
    paths = text.split("call paths that grew most", 1)[1]
    assert "KiB in +" in paths and "kept = [bytearray(1024)" in paths  # the path, with its source lines
