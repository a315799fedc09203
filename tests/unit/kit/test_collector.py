"""A service's start-up objects frozen out of the cycle collector's walks; garbage and later objects still collected."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator

import pytest

from backbone import collector


class _Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: only the cycle collector frees it


@pytest.fixture
def unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen")
def test_what_start_up_keeps_is_frozen_and_its_garbage_collected_first() -> None:
    kept = _Node()
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    collector.freeze_start_up()
    assert gone() is None, "start-up's garbage is collected, not frozen for the process's life"
    assert gc.get_freeze_count() > 0
    assert not any(obj is kept for gen in range(3) for obj in gc.get_objects(generation=gen)), "kept is frozen"


@pytest.mark.usefixtures("unfrozen")
def test_what_is_made_after_start_up_is_collected_as_before() -> None:
    collector.freeze_start_up()
    later = _Node()
    gone = weakref.ref(later)
    del later
    gc.collect()
    assert gone() is None
