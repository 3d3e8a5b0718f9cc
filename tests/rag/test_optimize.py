"""rag/optimize.py: the optimize policy picks an index once its unindexed points are many and have
stopped growing, optimizes it once, and again only after new writes. The engine is the real
embedded one, whose own indexing threshold is far above these few points: its `unindexed` count is
scaled by a subclass so the policy's decisions run against real writes at test scale."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator

import pytest

from rag.index import index_name
from rag.index_edge import EdgeIndexes
from rag.optimize import OptimizePolicy
from tests.rag.test_index import DIMENSIONS, points

NAME = index_name("vs_test", 1)
QUIET = index_name("vs_quiet", 1)


class CountingIndexes(EdgeIndexes):
    """The embedded engine; records which indexes were optimized and, as optimizing these few points
    builds no graph (under the engine's threshold), counts an optimized index's points as indexed."""

    def __init__(self, root: pathlib.Path) -> None:
        super().__init__(root)
        self.optimized: list[str] = []
        self.indexed: dict[str, int] = {}

    def optimize(self, name: str) -> None:
        super().optimize(name)
        self.optimized.append(name)
        self.indexed[name] = self.count(name)

    def unindexed(self, name: str) -> int:
        return super().unindexed(name) - self.indexed.get(name, 0)


@pytest.fixture
def indexes(tmp_path: pathlib.Path) -> Iterator[CountingIndexes]:
    opened = CountingIndexes(tmp_path / "index")
    for name in (NAME, QUIET):
        opened.create(name, DIMENSIONS)
    opened.upsert(QUIET, points("vs_quiet", files=1, chunks_per_file=5))  # under the minimum
    yield opened
    opened.close()


async def test_an_index_is_optimized_once_its_writes_have_settled(indexes: CountingIndexes) -> None:
    policy = OptimizePolicy(indexes, min_points=20)
    indexes.upsert(NAME, points(files=2))  # 10 points: under the minimum
    assert await policy.once() == []
    indexes.upsert(NAME, points(files=6))  # 30: enough, but still growing since the last look
    assert await policy.once() == []
    assert await policy.once() == [NAME]  # unchanged for one interval: optimized, and only it
    assert indexes.optimized == [NAME] and indexes.unindexed(NAME) == 0
    assert await policy.once() == [] and await policy.once() == []  # nothing new: not again


async def test_an_optimize_that_leaves_points_unindexed_is_not_repeated(tmp_path: pathlib.Path) -> None:
    indexes = EdgeIndexes(tmp_path / "index")  # the engine itself: 30 points stay under its threshold
    try:
        indexes.create(NAME, DIMENSIONS)
        indexes.upsert(NAME, points())
        policy = OptimizePolicy(indexes, min_points=20)
        assert await policy.once() == []
        assert await policy.once() == [NAME] and indexes.unindexed(NAME) == 30
        assert await policy.once() == []  # the same count left by the last optimize: not retried
    finally:
        indexes.close()
