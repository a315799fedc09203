"""`uninterrupted`: a step with an effect outside runs to its end through a graceful stop."""

from __future__ import annotations

import asyncio

import pytest

from backbone.loops import uninterrupted


async def test_a_cancelled_caller_waits_for_the_work_to_finish_and_is_then_cancelled() -> None:
    finished: list[str] = []

    async def send_then_record() -> str:
        await asyncio.sleep(0.05)  # the server accepts the message ...
        finished.append("recorded")  # ... and the send is committed
        return "sent"

    caller = asyncio.create_task(uninterrupted(send_then_record()))
    await asyncio.sleep(0.01)
    caller.cancel()
    await asyncio.sleep(0)
    caller.cancel()  # a second cancellation (a stop in a hurry) does not cut it short either
    with pytest.raises(asyncio.CancelledError):
        await caller
    assert finished == ["recorded"]


async def test_without_cancellation_the_result_and_errors_come_through() -> None:
    async def answer() -> int:
        return 42

    async def fail() -> None:
        raise ValueError("the server refused")

    assert await uninterrupted(answer()) == 42
    with pytest.raises(ValueError, match="refused"):
        await uninterrupted(fail())
