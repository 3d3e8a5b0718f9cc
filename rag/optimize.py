"""The rag role's optimize policy: an index's HNSW graph is built off the request path, once its
writes have settled.

The embedded engine (qdrant-edge-py) searches new points by brute force until `optimize()` builds
their graph (17.5 ms p50 at 100k unindexed points, 423 ms with a filter; ~9 ms and ~17 ms after),
and optimizing is expensive (81 s for 12k points, 22 min for 100k on this loaded 2-core machine).
So every RINGSIDE_RAG_OPTIMIZE_INTERVAL_S (60 s) the rag role looks at each index's unindexed
points (`VectorIndexes.unindexed`) and optimizes one when
- at least RINGSIDE_RAG_OPTIMIZE_MIN_POINTS (10 000) points are unindexed (below that brute force
  costs a few ms), and
- that count has not changed since the previous look (no ingest is writing to it: optimizing under a
  stream of writes would be redone at once),
one index at a time, on its own thread at a lower CPU priority (nice +10), so searches and ingests
keep the cores first. Searches go on meanwhile (the engine takes concurrent calls). A Qdrant server
optimizes its collections itself: there `unindexed` is always 0 and nothing is done.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from rag.index import IndexNotFoundError, VectorIndexes

log = logging.getLogger("ringside.rag.optimize")
NICE = 10


class OptimizePolicy:
    """Decides which index to optimize and runs it on one low-priority thread."""

    def __init__(self, indexes: VectorIndexes, min_points: int) -> None:
        self._indexes = indexes
        self._min_points = min_points
        self._seen: dict[str, int] = {}  # index → unindexed points at the previous look
        # index → unindexed points its last optimize left (the engine indexes nothing below its own
        # threshold): not optimized again until that changes
        self._left: dict[str, int] = {}
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-optimize")

    def due(self) -> list[str]:
        """The indexes to optimize now (blocking: engine calls), and remembers what it saw."""
        seen, due = {}, []
        for name in self._indexes.names():
            with contextlib.suppress(IndexNotFoundError):
                unindexed = self._indexes.unindexed(name)
                seen[name] = unindexed
                settled = self._seen.get(name) == unindexed and self._left.get(name) != unindexed
                if unindexed >= self._min_points and settled:
                    due.append(name)
        self._seen = seen
        self._left = {name: left for name, left in self._left.items() if name in seen}
        return due

    def _optimize(self, name: str) -> float:
        with contextlib.suppress(OSError):  # a thread's own nice value (Linux); the engine's threads inherit it
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), NICE)
        started = time.monotonic()
        with contextlib.suppress(IndexNotFoundError):  # dropped meanwhile
            self._indexes.optimize(name)
            self._left[name] = self._indexes.unindexed(name)
        return time.monotonic() - started

    async def once(self) -> list[str]:
        """One look; optimizes the indexes due, one after another. → the ones optimized."""
        loop = asyncio.get_running_loop()
        due = await loop.run_in_executor(self._thread, self.due)
        for name in due:
            took_s = await loop.run_in_executor(self._thread, self._optimize, name)
            log.info("rag optimized index %s in %.1f s", name, took_s)
        return due

    async def run(self, interval_s: float) -> None:
        """Looks every `interval_s` until cancelled (an optimize under way finishes on its thread)."""
        try:
            while True:
                await asyncio.sleep(interval_s)
                try:
                    await self.once()
                except (OSError, RuntimeError) as error:
                    log.warning("rag optimize: %s; next look in %.0f s", error, interval_s)
        finally:
            self._thread.shutdown(wait=False)
