"""`RINGSIDE_CORE_SHARE=fair`: several active cores, each serving its share of the partitions
(issue 25; the rule in core/store/core_addresses.py, docs/scaling.md "Partitions over active cores").

At start a core takes its liveness lock, advertises its address, claims the partitions it prefers
that are free or lapsed and a dead core's, loads only their accounts' hot state and serves them
(possibly none at first). Every `ttl / 4` after that it renews (a partition lost: it stops, as
with `all`), takes a dead core's partitions, claims the free ones it prefers, and hands back the
ones a live core prefers; between rounds it looks for a dead core every 0.1 s (its liveness lock
free) and takes its partitions at once. A partition gained is served only once its state is loaded (meanwhile
its calls are answered "not owner", a 503 to a caller that cannot route); a partition handed back
is first no longer served, then its queued commits are flushed, then its accounts' objects leave
memory, then its row is released for the other core to claim (the epoch fences any commit of this
core that would still come)."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from core.domain import state_partitions
from core.services.core import Core
from core.services.partitions import DEATH_POLL_S, live_leases
from core.services.window_checkpoints import keep_checkpoints
from core.store import core_addresses, partition_windows
from core.store.loader import load_state
from core.store.partition_leases import PartitionLeases
from ringside_server.partitions import partition_of
from ringside_server.settings import Settings

log = logging.getLogger("ringside.core.partitions")


async def claim_share(engine: Engine, settings: Settings) -> PartitionLeases:
    """The liveness lock, this core's address, then its share of what is free now (never waits)."""
    loop = asyncio.get_running_loop()
    leases = await live_leases(engine, settings)
    # registered without a heartbeat: handed partitions only once its share loop runs (`keep_share`)
    await loop.run_in_executor(None, core_addresses.register, engine, leases.fence.core_id, advertised(settings))
    await loop.run_in_executor(None, _claim_round, leases, settings.core_partitions)
    log.info("core %s starts with %d partitions", leases.fence.core_id, len(leases.fence.held))
    return leases


@dataclass(frozen=True, slots=True)
class Round:
    """What one round found: the partitions gained, those to hand back and to whom (partition →
    the preferring core's address), the live cores' split and the partition map to answer from."""

    gained: set[int]
    give: dict[int, str]
    preferred: set[int]
    owners: dict[int, str]


def _claim_round(leases: PartitionLeases, partitions: int) -> Round:
    """One round (blocking): a dead core's partitions, the free preferred ones; what to hand back
    (held, not preferred, preferred by a live core) and the partition map."""
    me = leases.fence.core_id
    before = set(leases.fence.held)
    leases.take_from_dead()
    leases.claim_lapsed()  # a frozen core's (its lock still held): fenced, it stops when it resumes
    # The renewing cores only: one whose heartbeat is older than half the TTL is frozen or cut off,
    # and what this round just claimed from it at the lapse must not be handed back to it.
    live = core_addresses.live_cores(leases._engine, me, fresh_ms=leases.ttl_ms // 2)
    preferred = core_addresses.preferred_partitions(partitions, live, me)
    leases.claim(sorted(preferred - set(leases.fence.held)) or [])
    gained = set(leases.fence.held) - before
    owners = core_addresses.owners_map(leases._engine, live, partitions)
    give: dict[int, str] = {}
    if len(live) > 1:  # the giver names the taker (the core preferring it) from the moment it stops serving
        registered = core_addresses.addresses(leases._engine)
        give = {
            p: registered.get(core_addresses.preferring_core(p, live), "")
            for p in leases.fence.held
            if p not in preferred
        }
    return Round(gained, give, preferred, owners)


def load_partitions(
    engine: Engine, partitions: Iterable[int], count: int, customers: bool = True
) -> state_partitions.State:
    """The hot state of `partitions`' accounts only (blocking): filtered in SQL by their account
    ids (core/store/loader.py), and once more in memory (`keep_only`, a cheap pass over what was read).
    Without `customers`: their tenants' state only (a lazy start, core/services/customer_load.py)."""
    owned = state_partitions.in_partitions(partitions, count)
    return state_partitions.keep_only(load_state(engine, int(time.time()), owned, customers), owned)


async def keep_share(core: Core, settings: Settings, renewal: asyncio.Task[None]) -> None:
    """The share's loop; returns when a partition was lost (the core then stops, exit status 3).
    `renewal` (core/services/partitions.py `keep_partitions`, started right after the claim, as
    with `all`) renews in a task of its own: neither the start's state load nor a round loading a
    large share lets the leases lapse meanwhile. It ends when a partition was lost; so does this.
    From its start each renewal writes this core's heartbeat: the other cores count it live (and
    hand it its share) from then on, its state loaded and its port about to open."""
    leases = core.partition_leases
    assert leases is not None
    core_id, address = leases.fence.core_id, advertised(settings)
    leases.on_renew = lambda connection: core_addresses.heartbeat(connection, core_id, address)
    interval_s = settings.core_window_checkpoint_s
    checkpoints = asyncio.create_task(keep_checkpoints(core, interval_s), name="window-checkpoints")
    try:
        await _share_rounds(core, settings, renewal)
    finally:
        renewal.cancel()
        checkpoints.cancel()


async def _share_rounds(core: Core, settings: Settings, renewal: asyncio.Task[None]) -> None:
    leases = core.partition_leases
    assert leases is not None
    loop = asyncio.get_running_loop()
    ownership = core.ownership
    count = settings.core_partitions
    while not renewal.done():
        try:
            found = await loop.run_in_executor(None, _claim_round, leases, count)
            # a partition still loading (gained, not served yet) is answered "not owner" naming this core
            ownership.owners = {**found.owners, **dict.fromkeys(found.gained, ownership.address)}
        except OperationalError as error:  # the database unreachable: the fence keeps writes safe meanwhile
            log.warning("the partition round failed (%s); retrying", type(error.orig).__name__)
            await asyncio.sleep(settings.core_lease_ttl_s / 4)
            continue
        if found.gained:
            await adopt_partitions(core, found.gained, count)
        if found.give:
            await hand_back(core, found.give, count)
        await _watch_for_deaths(core, leases, settings.core_lease_ttl_s / 4, found.preferred, renewal)


async def _watch_for_deaths(
    core: Core, leases: PartitionLeases, period_s: float, preferred: set[int], renewal: asyncio.Task[None]
) -> None:
    """Until the next round: every DEATH_POLL_S, a dead core's partitions (its liveness lock free)
    are taken and served at once, as a standby does (core/services/partitions.py), and so are the
    partitions this core prefers that another has just handed back (released): the time nobody
    serves a partition changing hands is this poll and the load, not a round (TTL / 4)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + period_s
    count = leases.fence.partitions
    while (left := deadline - loop.time()) > 0 and not renewal.done():
        await asyncio.sleep(min(left, DEATH_POLL_S))
        try:
            taken = set(await loop.run_in_executor(None, _take_dead_or_released, leases, preferred))
        except OperationalError:
            continue  # the next round retries
        if taken:
            await adopt_partitions(core, taken, count)


def _take_dead_or_released(leases: PartitionLeases, preferred: set[int]) -> dict[int, int]:
    """(Blocking) a dead core's partitions, and the released ones this core prefers; → those gained.
    Both found by one read (`PartitionLeases.others`): all a poll costs while nothing changes."""
    others = leases.others()
    taken = leases.take_from_dead(others.gone)  # none gone (most polls): no transaction
    handed = (others.released & preferred) - set(taken)
    return {**taken, **(leases.claim(sorted(handed)) if handed else {})}


async def adopt_partitions(core: Core, gained: set[int], count: int) -> None:
    """Loads the gained partitions' state (the other partitions served meanwhile) and the rate-limit
    windows handed over with them (none after a death), then serves them."""
    loop = asyncio.get_running_loop()
    started = time.perf_counter()
    # Held now, loading: "not owner" answers name this core (its callers wait and send again here).
    core.ownership.owners = {**core.ownership.owners, **dict.fromkeys(gained, core.ownership.address)}
    loaded = await loop.run_in_executor(None, load_partitions, core.engine, gained, count)
    windows = await loop.run_in_executor(None, partition_windows.read, core.engine, gained)
    state_partitions.adopt(core.state, loaded)
    now = core.meter.clock()
    for key, entries in windows:
        core.meter.limiter.absorb(key, entries, now)
    core.ownership.serving = frozenset((core.ownership.serving or frozenset()) | gained)
    log.info(
        "serving %d more partitions (%d customers, %d rate-limit windows handed over) after %.2f s",
        len(gained),
        len(loaded.customers),
        len(windows),
        time.perf_counter() - started,
    )


async def hand_back(core: Core, to: dict[int, str], count: int) -> None:
    """Stops serving the partitions of `to` (partition → the taker's address, which "not owner"
    answers name from now on: never this core), flushes the commits already queued, forgets their
    accounts, releases them with their accounts' rate-limit windows (in the release's transaction)."""
    leases = core.partition_leases
    assert leases is not None
    give = set(to)
    started = time.perf_counter()
    core.ownership.owners = {**core.ownership.owners, **{p: address for p, address in to.items() if address}}
    core.ownership.serving = frozenset((core.ownership.serving or frozenset()) - give)
    leaving = state_partitions.in_partitions(give, count)
    account = next((account_id for account_id in core.state.accounts if leaving(account_id)), None)
    if account is not None:  # an empty unit fenced on a partition still held: queued after every
        await core.writer.write([], accounts=(account,))  # unit before it, so those are committed now

    windows = leaving_windows(core, leaving, count)  # no call of theirs is admitted here any more
    state_partitions.drop(core.state, leaving)
    await asyncio.get_running_loop().run_in_executor(None, leases.hand_back, give, saving(windows))
    log.info(  # the time its calls were answered "not owner" before the taker could claim them
        "handed back %d partitions (%d rate-limit windows with them) in %.2f s",
        len(give),
        len(windows),
        time.perf_counter() - started,
    )


Window = tuple[int, tuple[str, ...], list[tuple[float, int, int]]]


def leaving_windows(core: Core, leaving: state_partitions.Owned, count: int) -> list[Window]:
    """Removes from the limiter the rate-limit windows of the partitions `leaving` (customers',
    accounts' and IPs'; a client token's names no account and stays) → (partition, key, entries)."""

    def leaves(key: tuple[str, ...]) -> bool:
        account_id = state_partitions.window_account(core.state, key)
        return bool(account_id) and leaving(account_id)

    return [
        (partition_of(state_partitions.window_account(core.state, key), count), key, entries)
        for key, entries in core.meter.limiter.export(leaves, core.meter.clock())
    ]


def saving(windows: list[Window]) -> Callable[[Connection, set[int]], None]:
    """What a release runs in its transaction: the windows of the partitions it did release."""

    def save(connection: Connection, released: set[int]) -> None:
        partition_windows.save(connection, [window for window in windows if window[0] in released])

    return save


def advertised(settings: Settings) -> str:
    """Where the edges reach this core: RINGSIDE_CORE_ADVERTISE_ADDRESS, else its listen address."""
    return settings.core_advertise_address or f"{settings.bind_host}:{settings.grpc_port}"
