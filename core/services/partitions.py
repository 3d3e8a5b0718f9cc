"""The core's partition leases over time (PostgreSQL; core/store/partition_leases.py): claim every
partition before loading state, then renew them until the core stops or loses one."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError

from core.store.partition_fence import Fence
from core.store.partition_leases import PartitionLeases, check_partition_count
from ringside_server.settings import Settings

log = logging.getLogger("ringside.core.partitions")


async def claim_partitions(engine: Engine, settings: Settings) -> PartitionLeases:
    """Every partition, for this core: the free ones at once; a dead core's as soon as its liveness
    lock is free (its process gone), or a paused one's once its lease lapses (within
    RINGSIDE_CORE_LEASE_TTL_S); a live one's never — this core waits as a standby until then, its
    gRPC port not yet open."""
    loop = asyncio.get_running_loop()
    leases = await live_leases(engine, settings)
    await loop.run_in_executor(None, leases.claim, None)
    waited = False
    while missing := settings.core_partitions - len(leases.fence.held):
        if not waited:
            log.info("core %s waits for %d partitions another core holds", leases.fence.core_id, missing)
            waited = True
        until_lapse_s = await loop.run_in_executor(None, _until_next_lapse, leases, settings.core_lease_ttl_s)
        await asyncio.sleep(min(until_lapse_s, DEATH_POLL_S))
        # A dead owner's partitions at once (its liveness lock is free); a paused one's at their lapse.
        await loop.run_in_executor(None, leases.take_from_dead)
        if until_lapse_s <= DEATH_POLL_S:
            await loop.run_in_executor(None, leases.claim, None)
    log.info("core %s holds all %d partitions", leases.fence.core_id, settings.core_partitions)
    return leases


# Past a lease's lapse before claiming again: the database's clock, read a moment ago.
LAPSE_MARGIN_S = 0.02
# How often a waiting core looks for a dead owner (one whose liveness lock is free).
DEATH_POLL_S = 0.1


async def live_leases(engine: Engine, settings: Settings) -> PartitionLeases:
    """This core's partition leases, none claimed yet, its liveness lock held (`claim_partitions`,
    and `claim_share` of core/services/partition_share.py)."""
    loop = asyncio.get_running_loop()
    await loop.run_in_executor(None, check_partition_count, engine, settings.core_partitions)
    leases = PartitionLeases(
        engine,
        # a transaction locking lease rows idle a TTL long (a frozen core's) ends with its session
        Fence(settings.resolved_core_id, settings.core_partitions, idle_ms=int(settings.core_lease_ttl_s * 1000)),
        settings.core_lease_ttl_s,
    )
    await _hold_liveness_lock(leases)
    return leases


async def _hold_liveness_lock(leases: PartitionLeases) -> None:
    """This core's liveness lock before any claim; while a process under the same id still holds
    it (a predecessor stopping, or a frozen one), wait: its session ends with it."""
    loop = asyncio.get_running_loop()
    for attempt in range(1_000_000):  # bounded; a frozen predecessor's session may outlive it long
        if await loop.run_in_executor(None, leases.hold_liveness_lock):
            return
        if attempt == 0:
            log.warning("core %s waits for its liveness lock: another process runs under its id", leases.fence.core_id)
        await asyncio.sleep(DEATH_POLL_S * 5)
    raise SystemExit(f"core: another process under the id {leases.fence.core_id!r} never stopped")


def _until_next_lapse(leases: PartitionLeases, ttl_s: float) -> float:
    """How long a waiting core sleeps before claiming again: until just after the first lease it
    waits for lapses (a dead core's partitions are claimed within milliseconds of their lapse, not
    up to a poll period later), at most `ttl_s / 4` (a live core renews meanwhile)."""
    remaining = leases.next_lapse_s()
    if remaining is None:
        return LAPSE_MARGIN_S
    return min(max(remaining + LAPSE_MARGIN_S, LAPSE_MARGIN_S), ttl_s / 4)


async def keep_partitions(leases: PartitionLeases, ttl_s: float) -> None:
    """Renews every `ttl_s / 4`; returns when a partition was lost (another core claimed it after
    this one failed to renew in time: a pause, a partition from the database)."""
    loop = asyncio.get_running_loop()
    while True:
        await asyncio.sleep(ttl_s / 4)
        try:
            lost = await loop.run_in_executor(None, leases.renew)
        except OperationalError as error:  # the database unreachable: the fence keeps writes safe meanwhile
            log.warning("renewing partition leases failed (%s); retrying", type(error.orig).__name__)
            continue
        if lost:
            log.error("partitions %s are another core's now", sorted(lost)[:20])
            return
