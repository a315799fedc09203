"""Free heap memory goes back to the system: buffers freed between ones still held leave whole free pages in
glibc's heap, which stay resident until trimmed; one trim gives them back."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path

import pytest

from backbone import allocator


def _private_mib() -> float:
    for line in Path("/proc/self/smaps_rollup").read_text().splitlines():
        if line.startswith("Pss_Anon:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no Pss_Anon in smaps_rollup")


@pytest.mark.skipif(not allocator.can_trim(), reason="the C library has no malloc_trim")
def test_freed_buffers_between_held_ones_leave_resident_memory_that_a_trim_gives_back() -> None:
    allocator.trim()
    held, freed = [], []
    for _ in range(8_000):  # 16 KiB buffers (malloc's, not pymalloc's), each followed by a small one kept
        freed.append(bytes(16_000))
        held.append(bytes(600))
    del freed
    gc.collect()
    before = _private_mib()
    assert allocator.trim()
    after = _private_mib()
    assert before - after > 60, f"{before:.1f} → {after:.1f} MiB"  # of the ~122 MiB freed
    assert len(held) == 8_000


def test_the_loop_trims_until_cancelled(monkeypatch: pytest.MonkeyPatch) -> None:
    trims: list[None] = []

    async def a_while() -> None:
        three = asyncio.Event()

        def counted() -> bool:
            trims.append(None)
            if len(trims) == 3:
                three.set()
            return True

        monkeypatch.setattr(allocator, "trim", counted)
        task = asyncio.create_task(allocator.keep_trimmed(every=0.01))
        await three.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(asyncio.wait_for(a_while(), timeout=10))
    assert len(trims) >= 3
