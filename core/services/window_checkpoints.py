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

    def partition(key: WindowKey) -> int | None:
        account_id = state_partitions.window_account(core.state, key)
        return partition_of(account_id, count) if account_id else None

    def served(key: WindowKey) -> bool:
        found = partition(key)
        return found is not None and (serving is None or found in serving)

    after = dict(seen)
    # On the event loop (the limiter is not shared with threads): a pass over its windows.
    changed, gone = core.meter.limiter.changed(served, after, MAX_WINDOWS_PER_CHECKPOINT)
    rows = [(p, key, entries) for key, entries in changed if (p := partition(key)) is not None]
    dropped = [(p, key) for key in gone if (p := partition(key)) is not None]
    if not rows and not dropped:
        return after
    try:
        await asyncio.get_running_loop().run_in_executor(
            None, partition_windows.checkpoint, core.engine, leases.fence, rows, dropped
        )
    except OperationalError as error:  # the database unreachable: the next checkpoint writes them
        log.warning("checkpointing rate-limit windows failed (%s)", type(error.orig).__name__)
        return seen
    return after
