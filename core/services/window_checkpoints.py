"""Checkpoints of a `fair` core's rate-limit windows (issue 25, docs/scaling.md "Partitions over
active cores"): every `RINGSIDE_CORE_WINDOW_CHECKPOINT_S` the windows of the accounts this core
serves that changed since the last checkpoint are written (and the ones it no longer keeps
deleted) into the rows a hand-back writes (core/store/partition_windows.py), off the hot path, in
one transaction fenced on their partitions. A core that takes the partitions over after a death
or a freeze loads them as it loads a hand-back's: the admissions it does not know are at most
those of the last interval before the owner stopped."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy.exc import OperationalError

from core.domain import state_partitions
from core.domain.ratelimit import entries_of
from core.services.core import Core
from core.store import partition_windows
from ringside_server.partitions import partition_of

log = logging.getLogger("ringside.core.partitions")

# The most windows one checkpoint writes (the rest at the next): the rows written per second stay
# bounded whatever the traffic — at most this many per interval, and only windows that changed.
MAX_WINDOWS_PER_CHECKPOINT = 5_000

WindowKey = tuple[str, ...]


async def keep_checkpoints(core: Core, interval_s: float) -> None:
    """Checkpoints every `interval_s` until cancelled (with the share's loop)."""
    seen: dict[WindowKey, tuple[int, int, int, float]] = {}  # what the rows hold, by window
    while True:
        await asyncio.sleep(interval_s)
        seen = await checkpoint_once(core, seen)


async def checkpoint_once(
    core: Core, seen: dict[WindowKey, tuple[int, int, int, float]]
) -> dict[WindowKey, tuple[int, int, int, float]]:
    """One checkpoint; → what the rows hold now (`seen` unchanged when the write failed)."""
    leases = core.partition_leases
    assert leases is not None
    count = leases.fence.partitions
    serving = core.ownership.serving

    found: dict[WindowKey, int] = {}  # the partitions of the windows served, as `served` saw them

    def partition(key: WindowKey) -> int | None:
        account_id = state_partitions.window_account(core.state, key)
        return partition_of(account_id, count) if account_id else None

    def served(key: WindowKey) -> bool:
        p = partition(key)
        if p is None or (serving is not None and p not in serving):
            return False
        found[key] = p
        return True

    after = dict(seen)
    # On the event loop (the limiter is not shared with threads), but only over the windows
    # changed since the last checkpoint (the limiter's dirty set), not all it keeps; their entries
    # are listed (and written) in the worker thread, from copies of their lanes.
    limiter = core.meter.limiter
    changed, gone = limiter.changed_lanes(served, after, MAX_WINDOWS_PER_CHECKPOINT)
    dropped = [(p, key) for key in gone if (p := partition(key)) is not None]
    if not changed and not dropped:
        return after
    rows = ((found[key], key, entries_of(lanes)) for key, lanes in changed)
    try:
        await asyncio.get_running_loop().run_in_executor(
            None, partition_windows.checkpoint, core.engine, leases.fence, rows, dropped
        )
    except OperationalError as error:  # the database unreachable: the next checkpoint writes them
        log.warning("checkpointing rate-limit windows failed (%s)", type(error.orig).__name__)
        limiter.unwritten([key for key, _ in changed] + gone)
        return seen
    return after
