"""One round trip for many identical questions asked at once.

A short cache (a verified API key for 0.5 s, a caller's allowed_models lists for 1 s) saves the core a
call per request only between refreshes: when an entry runs out, every request that arrives before the
core's answer misses too and asks again. Under load that was most of the edge's calls to the core
(docs/performance.md: 66 VerifyApiKey for 16 expiries in 8 s at 60 req/s, ~3x more at 200 req/s),
and the slower the answer, the more requests missed: a feedback loop. `SingleFlight` lets the first
miss ask; the others await its answer (or its error).

Even one miss per refresh is a request that waits for a core round trip: at 20 req/s a key's entry
(0.5 s) and a caller's lists (1 s) ran out for 3 requests in 20, and they were most of the p99
(docs/performance.md). So an entry is refreshed ahead: the first request that finds it in the last
`REFRESH_AHEAD_SHARE` of its life starts the question in the background (`refresh`) and is answered
from the entry, which the answer then replaces. A steady caller never waits; an entry is still never
trusted past its time-to-live after the core last confirmed it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")
# An entry is refreshed in the background once less than this share of its time-to-live is left:
# late enough that a busy caller asks ~1.5× per time-to-live, not once per request; early enough that
# a caller at a few requests a second still has one request in that stretch.
REFRESH_AHEAD_SHARE = 1 / 3


def refresh_due(expires_at: float, ttl_s: float, now: float) -> bool:
    """Whether an entry still good until `expires_at` is due for a refresh ahead of its end."""
    return expires_at - now < ttl_s * REFRESH_AHEAD_SHARE


class SingleFlight(Generic[K, V]):
    """At most one `fetch` in flight per key; concurrent callers for the key share its outcome."""

    def __init__(self) -> None:
        self._pending: dict[K, asyncio.Task[V]] = {}

    async def run(self, key: K, fetch: Callable[[], Awaitable[V]]) -> V:
        task = self._pending.get(key)
        if task is None:
            task = self._start(key, fetch)
        return await asyncio.shield(task)

    def refresh(
        self, key: K, fetch: Callable[[], Awaitable[V]], first: Callable[[], Awaitable[None]] | None = None
    ) -> None:
        """Start `fetch` in the background unless one for `key` is in flight; nobody waits for it
        (its error is retrieved, and the next miss asks again). `first` is awaited before it: the
        refresh then goes once the request that found it due is answered (answering.py)."""
        if key not in self._pending:
            self._start(key, fetch if first is None else _after(first, fetch))

    def _start(self, key: K, fetch: Callable[[], Awaitable[V]]) -> asyncio.Task[V]:
        # A task of its own: a first caller that is cancelled (its client left) does not cancel the
        # question the others wait for.
        task = asyncio.get_running_loop().create_task(_awaited(fetch))
        self._pending[key] = task
        task.add_done_callback(lambda done: self._done(key, done))
        return task

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


def _after(first: Callable[[], Awaitable[None]], fetch: Callable[[], Awaitable[V]]) -> Callable[[], Awaitable[V]]:
    async def fetched() -> V:
        await first()
        return await fetch()

    return fetched
