"""Free memory that the C allocator keeps, given back to the system once a minute.

CPython hands every object larger than 512 bytes, and every buffer a C extension allocates (asyncpg's reads,
aiokafka's fetches, pydantic's validation), to glibc's malloc. When they are freed, malloc keeps the memory for
reuse, and it returns to the system only the free space at the very top of its heap. `backbone soak` showed what
that costs a service that runs for weeks: the memory its heap holds in use stayed flat for hours while the free
memory inside the heap grew by about 10 MiB an hour (intake, notify and meetings alike), and the process's
resident memory with it. `malloc_trim(0)` gives back every whole free page of the heap, wherever it lies; once a
minute it takes a millisecond or two, against a steady rise without it.

On a C library without `malloc_trim` (musl, macOS) nothing runs: their allocators return memory differently.
"""

from __future__ import annotations

import asyncio
import ctypes
import ctypes.util
from collections.abc import Callable
from functools import cache
from typing import Any

TRIM_EVERY_SECONDS = 60.0


@cache
def libc_function(name: str) -> Any:  # a ctypes function pointer, or None
    """A function of the C library, looked up once per process (`find_library` runs a program to find it);
    None where the C library has no such function."""
    library = ctypes.util.find_library("c")
    return getattr(ctypes.CDLL(library), name, None) if library else None


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    function = libc_function("malloc_trim")
    if function is None:
        return None
    function.argtypes, function.restype = [ctypes.c_size_t], ctypes.c_int
    return function  # type: ignore[no-any-return]


def can_trim() -> bool:
    return _malloc_trim() is not None


def trim() -> bool:
    """Give the heap's free pages back to the system now; True when there were some to give."""
    function = _malloc_trim()
    return bool(function and function(0))


async def keep_trimmed(every: float = TRIM_EVERY_SECONDS) -> None:
    """Trim every `every` seconds until cancelled."""
    while True:
        await asyncio.sleep(every)
        trim()
