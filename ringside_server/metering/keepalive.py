"""Holds kept alive while this process still has their calls (API.md "Holds, expiry, late settles").

A call's hold (or the lease it was admitted under) is extended every third of the hold TTL for as
long as the call is open here — streamed or not, whether or not upstream bytes are flowing — so a
reasoning model that thinks for minutes, or a stalled stream, never has its hold expire under it.
Only a process that stops (a crash) stops extending: then the core resolves the hold at its TTL.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import Counter

from ringside.core.v1 import metering_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError

log = logging.getLogger("ringside.metering.keepalive")
EXTENSIONS_AT_ONCE = 100  # extension calls in flight at a time, however many calls are open


class KeepAlive:
    def __init__(self, core: CoreClient, hold_ttl_s: float) -> None:
        self._core = core
        self.every_s = max(1.0, hold_ttl_s / 3)
        self._open: Counter[str] = Counter()  # hold or lease id → calls open under it here
        self._task: asyncio.Task[None] | None = None

    def keep(self, hold_id: str) -> None:
        """A call under `hold_id` is open here (until `release`)."""
        self._open[hold_id] += 1
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="hold-keepalive")

    def release(self, hold_id: str) -> None:
        self._open[hold_id] -= 1
        if self._open[hold_id] <= 0:
            del self._open[hold_id]

    @property
    def kept(self) -> frozenset[str]:
        return frozenset(self._open)

    async def _run(self) -> None:
        while self._open:
            await asyncio.sleep(self.every_s)
            try:
                await self.extend_all()
            except Exception:
                log.exception("hold keep-alive round failed")

    async def extend_all(self) -> None:
        ids = list(self._open)
        for start in range(0, len(ids), EXTENSIONS_AT_ONCE):
            await asyncio.gather(*(self._extend(hold_id) for hold_id in ids[start : start + EXTENSIONS_AT_ONCE]))

    async def _extend(self, hold_id: str) -> None:
        # Failure is safe: an expired hold is posted at its reserve (a lease, its admitted calls at
        # their estimates) and the call's own settle then corrects it (a late settle).
        with contextlib.suppress(RingsideError):
            await self._core.internal(
                self._core.metering.ExtendHold, metering_pb2.ExtendHoldRequest(request_id=hold_id)
            )
