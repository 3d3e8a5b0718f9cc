"""One round trip for many identical questions asked at once.

A short cache (a verified API key for 0.5 s, a caller's allowed_models lists for 1 s) saves the core a
call per request only between refreshes: when an entry runs out, every request that arrives before the
core's answer misses too and asks again. Under load that was most of the edge's calls to the core
(docs/performance.md: 66 VerifyApiKey for 16 expiries in 8 s at 60 req/s, ~3x more at 200 req/s),
and the slower the answer, the more requests missed: a feedback loop. `SingleFlight` lets the first
miss ask; the others await its answer (or its error).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class SingleFlight(Generic[K, V]):
    """At most one `fetch` in flight per key; concurrent callers for the key share its outcome."""

    def __init__(self) -> None:
        self._pending: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        task = self._pending.get(key)
        if task is None:
            # A task of its own: a first caller that is cancelled (its client left) does not cancel
            # the question the others wait for.
            task = asyncio.get_running_loop().create_task(_awaited(fetch))
            self._pending[key] = task
            task.add_done_callback(lambda done: self._done(key, done))
        return await asyncio.shield(task)

    def _done(self, key: K, task: asyncio.Task[V]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        if not task.cancelled():
            task.exception()  # retrieved, even when every caller left before the answer

    def forget(self) -> None:
        """Callers from now on ask anew; those waiting already keep their answer."""
        self._pending.clear()

    def __len__(self) -> int:
        return len(self._pending)


async def _awaited(fetch: Callable[[], Awaitable[V]]) -> V:
    return await fetch()
