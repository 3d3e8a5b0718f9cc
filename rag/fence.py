"""The sweep's fence against an ingest (issue 16): the rag role's sweep removes from a live store's
index the points of a file the core says is not attached — but between the core's answer and the
delete, the file may be attached again and its new ingest write points the delete would then take.

So the sweep holds the file's fence while it asks the core once more and deletes, and every write of
that file's points into that index waits for the fence to open (`FencedIndexes.upsert`):
- a write already under way when the fence closes belongs to an attach made before the second
  question, which then sees it attached: nothing is deleted;
- a write that starts later waits, and lands after the delete.
The fence holds within one rag role (the embedded engine has one owner); with several rag processes
on a Qdrant server another process's ingest is not fenced, and the next sweep cannot restore what a
delete took (a retried ingest does).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from rag.filters import Filter
from rag.index import IndexPoint, SearchHit, VectorIndexes

WAIT_S = 30.0  # a write waits at most this long for a fence (a sweep's one core call and one delete)


class FenceTimeoutError(RuntimeError):
    """A write waited WAIT_S for the sweep's fence; the caller retries (an ingest's activity does)."""


class FileFence:
    """The (index, file) pairs a sweep is deciding about; writes of their points wait."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._held: dict[tuple[str, str], int] = {}

    @contextlib.contextmanager
    def holding(self, name: str, file_id: str) -> Iterator[None]:
        """Writes of the file's points into `name` wait until this exits (never blocks itself)."""
        key = (name, file_id)
        with self._changed:
            self._held[key] = self._held.get(key, 0) + 1
        try:
            yield
        finally:
            with self._changed:
                self._held[key] -= 1
                if not self._held[key]:
                    del self._held[key]
                self._changed.notify_all()

    def wait_open(self, name: str, file_ids: set[str], wait_s: float = WAIT_S) -> None:
        """Returns once no fence is held on `name` for these files (blocking; an index thread's)."""
        deadline = time.monotonic() + wait_s
        with self._changed:
            while any((name, file_id) in self._held for file_id in file_ids):
                left = deadline - time.monotonic()
                if left <= 0:
                    raise FenceTimeoutError(f"the sweep held a file of {name} for over {wait_s:.0f} s")
                self._changed.wait(left)


class FencedIndexes:
    """The rag role's indexes with the sweep's fence on point writes; every other call passes through."""

    def __init__(self, indexes: VectorIndexes, fence: FileFence) -> None:
        self._indexes = indexes
        self.fence = fence

    def upsert(self, name: str, points: Sequence[IndexPoint]) -> None:
        self.fence.wait_open(name, {point.file_id for point in points})
        self._indexes.upsert(name, points)

    def set_attributes(self, name: str, file_id: str, attributes: Mapping[str, Any], version: int = 0) -> None:
        self._indexes.set_attributes(name, file_id, attributes, version)

    def create(self, name: str, dimensions: int) -> None:
        self._indexes.create(name, dimensions)

    def exists(self, name: str) -> bool:
        return self._indexes.exists(name)

    def names(self) -> list[str]:
        return self._indexes.names()

    def delete_file(self, name: str, file_id: str) -> None:
        self._indexes.delete_file(name, file_id)

    def drop(self, name: str) -> None:
        self._indexes.drop(name)

    def count(self, name: str, file_id: str | None = None) -> int:
        return self._indexes.count(name, file_id)

    def file_ids(self, name: str) -> list[str]:
        return self._indexes.file_ids(name)

    def search(
        self,
        name: str,
        vector: Sequence[float],
        limit: int,
        filters: Filter | None = None,
        score_threshold: float | None = None,
    ) -> list[SearchHit]:
        return self._indexes.search(name, vector, limit, filters, score_threshold)

    def attribute_fields(self, name: str) -> dict[str, str]:
        return self._indexes.attribute_fields(name)

    def optimize(self, name: str) -> None:
        self._indexes.optimize(name)

    def unindexed(self, name: str) -> int:
        return self._indexes.unindexed(name)

    def close(self) -> None:
        self._indexes.close()
