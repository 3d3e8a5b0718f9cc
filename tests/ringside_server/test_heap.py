"""A serving process's collector: start-up objects frozen, young collections rare."""

from __future__ import annotations

import gc
from collections.abc import Iterator

import pytest

from ringside_server.heap import YOUNG_GC_THRESHOLD, settle_heap


@pytest.fixture
def collector_restored() -> Iterator[None]:
    thresholds = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*thresholds)


@pytest.mark.usefixtures("collector_restored")
def test_a_settled_heap_freezes_what_is_alive_and_collects_the_young_rarely() -> None:
    alive = [object() for _ in range(10)]
    older = gc.get_threshold()[1:]
    settle_heap()
    assert gc.get_freeze_count() >= len(alive)
    assert gc.get_threshold() == (YOUNG_GC_THRESHOLD, *older)
    collections = gc.get_stats()[0]["collections"]
    garbage = [[index] for index in range(5_000)]  # 5,000 new containers: no young collection at 20,000
    assert gc.get_stats()[0]["collections"] == collections
    del garbage
