"""The requests this process is answering now, so that its own background work goes between them.

At low rates a request met the edge's background calls to the core (issue 24 target 3): a lease's
report round, a successor lease asked for ahead, a cached key or allowed_models list refreshed ahead.
Each is a gRPC call whose first step holds the event loop ~0.5 ms and whose answer wakes it again,
and each makes the core commit on the same CPUs: a request that overlapped one took ~1.5-4 ms longer
at the median than one that did not (docs/performance.md, branch `lowtail`). None of them has to
start at that instant, so each first waits for a spell with no request in flight here — at most a
bound, so that a busy edge (never without a request) still reports, renews and refreshes on time.
Reads that must see every answered call (`sync`) and shutdown never wait.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable

# The longest background work waits for a quiet spell: a report round (every 0.05 s, within
# lease.REPORT_LAG_LIMIT_S 0.25 s) and a lease asked for ahead (a quarter of a lease before it is
# needed) can both afford it; a non-stream call at low rates takes ~2-5 ms of it.
QUIET_WAIT_LIMIT_S = 0.02
# A spell is quiet once the last answer went this long ago: its bytes are written by then, but the
# client (on the same machine, in the benchmark) has still to be scheduled to read them, and a
# report's gRPC call and the core's commit started at that instant competed with it for the CPUs.
QUIET_AFTER_S = 0.002


class Answering:
    """A count of the requests in flight and the background work waiting for it to reach zero."""

    def __init__(self, wait_limit_s: float = QUIET_WAIT_LIMIT_S, after_s: float = QUIET_AFTER_S) -> None:
        self.wait_limit_s = wait_limit_s
        self.after_s = after_s
        self.in_flight = 0
        self.last_ended_at = 0.0  # time.monotonic()
        self._waiters: list[asyncio.Future[None]] = []

    def started(self) -> None:
        self.in_flight += 1

    def ended(self) -> None:
        self.in_flight -= 1
        if self.in_flight == 0:
            self.last_ended_at = time.monotonic()
            if self._waiters:
                waiters, self._waiters = self._waiters, []
                for waiter in waiters:
                    _release(waiter)

    async def quiet(self, limit_s: float | None = None, follow_s: float = 0.0) -> None:
        """Return once no request is in flight here and the last ended `after_s` ago, or after
        `wait_limit_s` (or `limit_s`, if shorter) whatever the requests do. With `follow_s`, a
        quiet spell that began longer ago than that waits for the next answer (bounded alike): work
        that recurs goes right after an answer, the furthest from the next request when a caller
        comes at a steady pace, and then keeps that step."""
        limit_s = self.wait_limit_s if limit_s is None else min(limit_s, self.wait_limit_s)
        deadline = time.monotonic() + limit_s
        while True:
            now = time.monotonic()
            if now >= deadline:
                return
            since_s = now - self.last_ended_at
            if self.in_flight or (follow_s and since_s > follow_s):
                await self._answered(deadline - now)
            elif since_s < self.after_s:
                await asyncio.sleep(min(self.after_s - since_s, deadline - now))
            else:
                return

    async def _answered(self, limit_s: float) -> None:
        """Until a request is answered and none is left in flight, or `limit_s`."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._waiters.append(waiter)
        timer = loop.call_later(limit_s, _release, waiter)
        try:
            await waiter
        finally:
            timer.cancel()
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def quiet_within(self, expires_at: float, now: float) -> Callable[[], Awaitable[None]]:
        """`quiet`, bounded by half the life an entry refreshed ahead has left: the refresh is sent
        before the entry runs out, so no request finds it expired while it waits."""
        return functools.partial(self.quiet, (expires_at - now) / 2)


def _release(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)
