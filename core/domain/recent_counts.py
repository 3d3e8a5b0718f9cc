"""The requests a core counted lately, by the edge's request id (CountRequest's idempotency).

A CountRequest whose answer was cut off (its core froze past the routing's ping timeout, or died) is
sent again under the same id. Asked again within the window, the core answers what it answered first
and counts nothing. Kept in memory only, bounded by count and age: a core taking over a dead core's
partitions starts from the dead core's last window checkpoint, which almost never holds a count made
in the instant before its death (the checkpoint runs every interval), so the taker counting the
resend is the one count that request gets — at worst, when a checkpoint landed between the count and
the death, one request counted twice; never one lost.
"""

from __future__ import annotations

from collections import OrderedDict

from core.domain.ratelimit import WINDOW_S, Status

# The most request ids remembered (~330 bytes each with the answer, measured with tracemalloc:
# ≈33 MB at the bound, reached at ~1,700 counted requests a second on one core): more counts within
# one window than this and the oldest are forgotten early (a resend of one is counted again).
MAX_REMEMBERED = 100_000


class RecentCounts:
    def __init__(self, window_s: float = WINDOW_S, limit: int = MAX_REMEMBERED) -> None:
        self.window_s = window_s
        self.limit = limit
        self._counted: OrderedDict[str, tuple[float, Status]] = OrderedDict()

    def answer(self, request_id: str, clock: float) -> Status | None:
        """What the count under `request_id` answered, if it was counted within the window."""
        self._forget_before(clock - self.window_s)
        found = self._counted.get(request_id)
        return found[1] if found is not None else None

    def remember(self, request_id: str, clock: float, status: Status) -> None:
        self._counted[request_id] = (clock, status)
        self._counted.move_to_end(request_id)
        while len(self._counted) > self.limit:
            self._counted.popitem(last=False)

    def _forget_before(self, oldest: float) -> None:
        while self._counted:
            counted_at, _ = next(iter(self._counted.values()))
            if counted_at >= oldest:
                return
            self._counted.popitem(last=False)
