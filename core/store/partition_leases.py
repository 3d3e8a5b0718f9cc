"""Partition leases with fencing (PostgreSQL only; DECISIONS.md 25).

Each core claims partitions of the accounts by a row per partition: (partition, owner, epoch,
expires_at_ms). A claim takes a partition that is free, expired, or already this core's, and always
adds one to its epoch; the owner renews its rows (same epoch) well before they expire. Advisory
locks alone would not fence — a paused core keeps its session and would write on when resumed — so
**every commit that writes an account's records checks, in its own transaction, that this core still
holds that account's partition at the epoch it claimed** (`Fence.check`, core/store/partition_fence.py:
`SELECT … FOR SHARE`). A stale owner's commit therefore rolls back whole, whatever its records were;
and because FOR SHARE conflicts with the claim's UPDATE, a takeover waits for a commit in flight and
then loads its state after it, never before. Times are the database's clock (`clock_timestamp()`),
so the cores' clocks need not agree.

**A dead core is found sooner than its lapse** by its liveness lock: every core holds a
session-level advisory lock keyed by its id (`LIVENESS_LOCK_PREFIX` + id) on a connection of its
own from before its first claim until it stops. A process that dies loses its session, and the lock
with it, at once; a waiting core that can take the owner's lock (as a transaction-level lock, so the
owner restarted under the same id cannot take its own back meanwhile) takes that owner's partitions
in the same transaction, lapsed or not (`take_from_dead`). The lock only speeds the takeover up; it
fences nothing (a paused core keeps its session and its lock: its partitions lapse after the TTL as
before), and a core that lost its database session while alive is fenced by the epoch like any
stale owner.

The fence itself, and the system partition account-less writes are fenced on, are in
core/store/partition_fence.py; the lease rows' statements are in core/store/partition_lease_sql.py.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import OperationalError

from core.store import partition_lease_sql as sql
from core.store.engine import PolledReads
from core.store.partition_fence import Fence, bound_idle

log = logging.getLogger("ringside.core.partitions")

LIVENESS_LOCK_PREFIX = "ringside-core-alive:"
# A core's sessions are named (application_name) by a hash of its id (`session_name`):
# see `sql.END_FROZEN`.
SESSION_PREFIX = "ringside-core "


class _GaveUp(Exception):
    """A claim that waited TTL / 4 on a row lock: nothing claimed this round."""


@dataclass(frozen=True, slots=True)
class Owner:
    partition: int
    owner: str
    epoch: int
    remaining_ms: int


@dataclass(frozen=True, slots=True)
class Others:
    """What the other cores hold: their ids, and the partitions free for the core preferring them;
    and those of them whose process is gone (their liveness lock free when read)."""

    owners: list[str]
    released: set[int]
    gone: list[str] = field(default_factory=list)


def session_name(core_id: str) -> str:
    """The application_name of a core's database sessions (≤ 63 characters whatever its id)."""
    return SESSION_PREFIX + hashlib.sha256(core_id.encode()).hexdigest()[:32]


def liveness_key(core_id: str) -> int:
    """The advisory lock key a core holds while it lives (a signed 64-bit integer, as PostgreSQL's)."""
    digest = hashlib.sha256((LIVENESS_LOCK_PREFIX + core_id).encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PartitionLeases:
    """The core's side of the lease rows; every method blocks (run it on a thread)."""

    def __init__(self, engine: Engine, fence: Fence, ttl_s: float) -> None:
        self._engine = engine
        self.fence = fence
        self._ttl_ms = int(ttl_s * 1000)
        # Holds this core's liveness lock for its life (see the module's docstring); used by the
        # renewal's thread and dropped from the event loop's, hence the mutex.
        self._alive: Connection | None = None
        self._alive_mutex = threading.Lock()
        # The death poll's reads (every 0.1 s) and the rounds': no pool checkout, hence no ping, each.
        self._polled = PolledReads(engine)
        self._dropped = False
        self._held_once = False
        # One change of `fence.held` at a time (the renewal's thread and the share's, `fair`): a
        # renewal must never see a partition this core has just handed back as lost.
        self._changing = threading.RLock()
        # Run in each renewal's transaction while nothing was lost (`fair`: this core's heartbeat in
        # core_addresses, core/store/core_addresses.py): a core frozen or cut off stops renewing, so
        # the other cores stop counting it in their split before its leases lapse.
        self.on_renew: Callable[[Connection], None] | None = None

    @property
    def ttl_ms(self) -> int:
        return self._ttl_ms

    def hold_liveness_lock(self) -> bool:
        """Takes this core's liveness lock on a connection of its own; False while another process
        under the same id holds it (a predecessor not yet stopped). Before any claim."""
        with self._alive_mutex:
            if self._alive is not None or self._dropped:
                return self._alive is not None
        connection = self._engine.connect()
        try:
            held = bool(connection.execute(sql.TRY_LOCK, {"key": liveness_key(self.fence.core_id)}).scalar())
            connection.commit()  # the lock is the session's; no transaction is left open
        except Exception:
            connection.close()
            raise
        with self._alive_mutex:
            if not held or self._dropped:
                if held:  # dropped meanwhile: never back to the pool holding the lock
                    connection.invalidate()
                connection.close()
                return False
            self._alive = connection
            self._held_once = True
        return True

    def touch_liveness_lock(self) -> None:
        """Keeps the lock's connection used (an idle one may be cut by a firewall or
        `idle_session_timeout`), and takes the lock again on a new one if it was lost: meanwhile a
        waiting core may have taken this core's partitions (the next renewal then finds them lost)."""
        with self._alive_mutex:
            if self._dropped or not self._held_once:
                return
            if self._alive is not None:
                try:
                    self._alive.execute(text("SELECT 1"))
                    self._alive.commit()
                    return
                except Exception as error:  # the session is gone, and the lock with it
                    log.warning("the liveness lock's session was lost (%s); taking it again", type(error).__name__)
                    self._alive.invalidate()
                    self._alive.close()
                    self._alive = None
        self.hold_liveness_lock()

    def drop_liveness_lock(self) -> None:
        """Closes the lock's session for good (a clean stop, or a test standing in for a death), and
        gives the polls' connection back."""
        self._polled.close()
        with self._alive_mutex:
            self._dropped = True
            if self._alive is not None:
                # Invalidated, not returned to the pool: a pooled session would keep holding the lock.
                self._alive.invalidate()
                self._alive.close()
                self._alive = None

    def others(self) -> Others:
        """The other cores holding partitions, the partitions released, the others gone (see `sql.OTHERS`)."""
        parameters = {"me": self.fence.core_id, "prefix": LIVENESS_LOCK_PREFIX}
        owners, gone, released = self._polled.run(lambda connection: connection.execute(sql.OTHERS, parameters).one())
        return Others([str(o) for o in owners or ()], {int(p) for p in released or ()}, [str(o) for o in gone or ()])

    def take_from_dead(self, owners: list[str] | None = None) -> dict[int, int]:
        with self._changing:
            return self._take_from_dead_unlocked(self.others().gone if owners is None else owners)

    def _take_from_dead_unlocked(self, owners: list[str]) -> dict[int, int]:
        """Every partition of a core of `owners` (the others found gone by `others`) whose liveness
        lock is free (probed again, in the transaction that takes them), lapsed or not; → the
        partitions taken and their epochs (added to `fence.held`)."""
        fence = self.fence
        taken: dict[int, int] = {}
        if not owners:
            return taken
        # One probe for all of them (alive or paused ones keep their locks: a paused core's
        # partitions lapse after the TTL instead), in the transaction that takes the dead ones'.
        probe = {"owners": owners, "keys": [liveness_key(owner) for owner in owners], "ms": str(fence.idle_ms)}
        with self._engine.begin() as connection:
            for owner, _ in connection.execute(sql.DEAD_OWNERS, probe).all():
                parameters = {"me": fence.core_id, "ttl_ms": self._ttl_ms, "dead": owner}
                rows = {int(row[0]): int(row[1]) for row in connection.execute(sql.TAKE_FROM, parameters)}
                if rows:
                    log.info("core %s is gone (its liveness lock is free): took its %d partitions", owner, len(rows))
                    taken.update(rows)
        if taken:
            fence.held = {**fence.held, **taken}
        return taken

    def claim(self, wanted: Iterable[int] | None = None) -> dict[int, int]:
        with self._changing:
            try:
                return self._claim_unlocked(wanted)
            except _GaveUp:
                return {}

    def _claim_unlocked(self, wanted: Iterable[int] | None = None) -> dict[int, int]:
        """Claims every partition of `wanted` (all by default) that is free, expired or already
        this core's; → the partitions newly claimed and their epochs (added to `fence.held`)."""
        fence = self.fence
        partitions = sorted(range(fence.partitions) if wanted is None else wanted)
        if not partitions:  # most rounds: the preferred ones are held already
            return {}
        self._end_frozen_sessions()
        with self._claim_waiting() as connection:
            connection.execute(sql.ENSURE, {"count": fence.partitions})
            rows = connection.execute(
                sql.CLAIM, {"me": fence.core_id, "ttl_ms": self._ttl_ms, "wanted": partitions}
            ).all()
        claimed = {int(row[0]): int(row[1]) for row in rows}
        if claimed:
            fence.held = {**fence.held, **claimed}
        return claimed

    def claim_lapsed(self) -> dict[int, int]:
        with self._changing:
            try:
                return self._claim_lapsed_unlocked()
            except _GaveUp:
                return {}

    def _claim_lapsed_unlocked(self) -> dict[int, int]:
        """Another core's partitions whose lease lapsed unreleased (see `sql.CLAIM_LAPSED`); → those
        claimed and their epochs (added to `fence.held`). Their owner's later commits are fenced.
        None lapsed (most rounds): no claim's transaction (one that lapses meanwhile waits a round,
        as if it had lapsed just after)."""
        if not self._end_frozen_sessions():
            return {}
        with self._claim_waiting() as connection:
            rows = connection.execute(sql.CLAIM_LAPSED, {"me": self.fence.core_id, "ttl_ms": self._ttl_ms}).all()
        claimed = {int(row[0]): int(row[1]) for row in rows}
        if claimed:
            log.info("claimed %d lapsed partitions (their owner stopped renewing)", len(claimed))
            self.fence.held = {**self.fence.held, **claimed}
        return claimed

    @contextlib.contextmanager
    def _claim_waiting(self) -> Iterator[Connection]:
        """A claim's transaction: its idle time bounded, its lock waits TTL / 4 at most — past that
        the claim is given up for this round (nothing claimed; the caller's next round retries)."""
        try:
            with self._engine.begin() as connection:
                bound_idle(connection, self.fence.idle_ms)
                if connection.dialect.name == "postgresql":
                    connection.execute(sql.LOCK_WAIT, {"ms": str(max(self._ttl_ms // 4, 50))})
                yield connection
        except OperationalError as error:
            if not isinstance(error.orig, LockNotAvailable):
                raise
            log.warning("a claim waited past TTL / 4 on a row lock (a frozen commit?); retrying next round")
            raise _GaveUp from error

    def _end_frozen_sessions(self) -> list[str]:
        """Ends the sessions of the cores whose leases lapsed unreleased that sat idle in a
        transaction longer than the TTL (see `sql.END_FROZEN`), before claiming: their row locks would
        hold the claim until they are resumed (PostgreSQL lets a role end its own role's sessions;
        where it may not, the claim waits as before). → those cores (none: no lease lapsed)."""
        parameters = {"me": self.fence.core_id}
        owners = self._polled.run(lambda c: [str(row[0]) for row in c.execute(sql.LAPSED_OWNERS, parameters)])
        if not owners:
            return owners
        ending = {"names": [session_name(owner) for owner in owners], "idle_s": self._ttl_ms / 1000}
        ended = int(self._polled.run(lambda connection: connection.execute(sql.END_FROZEN, ending).scalar()) or 0)
        if ended:
            log.warning("ended %d sessions of %s left idle in a transaction past the lease TTL", ended, owners)
        return owners

    def renew(self) -> set[int]:
        with self._changing:
            return self._renew_unlocked()

    def _renew_unlocked(self) -> set[int]:
        """Extends every held partition; → those lost (taken by another core: dropped from `held`).
        When none was lost, `on_renew` runs in the same transaction (even with none held)."""
        self.touch_liveness_lock()
        held = dict(self.fence.held)
        if not held and self.on_renew is None:
            return set()
        with self._engine.begin() as connection:
            bound_idle(connection, self.fence.idle_ms)
            parameters = {"me": self.fence.core_id, "ttl_ms": self._ttl_ms, "held": sorted(held)}
            renewed = {int(row[0]): int(row[1]) for row in connection.execute(sql.RENEW, parameters)} if held else {}
            lost = {p for p, epoch in held.items() if renewed.get(p) != epoch}
            if not lost and self.on_renew is not None:
                self.on_renew(connection)
        if lost:
            self.fence.held = {p: e for p, e in self.fence.held.items() if p not in lost}
        return lost

    def release(self, also: Callable[[Connection, set[int]], None] | None = None) -> None:
        with self._changing:
            return self._release_unlocked(also)

    def _release_unlocked(self, also: Callable[[Connection, set[int]], None] | None = None) -> None:
        """A clean stop: the rows expire now, so a successor need not wait out the lease. `also`
        runs in the same transaction with the partitions released (as for `hand_back`)."""
        held = self.fence.held
        self._release_rows(held, also)
        self.fence.held = {}
        self.drop_liveness_lock()

    def hand_back(self, partitions: Iterable[int], also: Callable[[Connection, set[int]], None] | None = None) -> None:
        with self._changing:
            return self._hand_back_unlocked(partitions, also)

    def _hand_back_unlocked(
        self, partitions: Iterable[int], also: Callable[[Connection, set[int]], None] | None = None
    ) -> None:
        """Releases `partitions` (their rows expire now, at this core's epoch) for the core that
        prefers them to claim; dropped from `held` first, so this core's later commits on them are
        refused by the fence. The caller has stopped serving them and let their commits finish:
        the UPDATE also waits for any commit in flight holding them FOR SHARE. `also` runs in the
        release's transaction with the partitions it did release (still this core's at its epoch:
        their rate-limit windows go with them, core/store/partition_windows.py)."""
        wanted = set(partitions)
        held = self.fence.held
        given = {p: e for p, e in held.items() if p in wanted}
        if not given:
            return
        self.fence.held = {p: e for p, e in held.items() if p not in wanted}
        self._release_rows(given, also)

    def _release_rows(self, epochs: dict[int, int], also: Callable[[Connection, set[int]], None] | None) -> None:
        """Expires the rows of `epochs` (partition → this core's epoch) still this core's at that
        epoch; `also` runs in the same transaction with the partitions released."""
        with self._engine.begin() as connection:
            bound_idle(connection, self.fence.idle_ms)
            released = set()
            for partition, epoch in sorted(epochs.items()):
                result = connection.execute(
                    sql.RELEASE, {"partition": partition, "me": self.fence.core_id, "epoch": epoch}
                )
                if result.rowcount:
                    released.add(partition)
            if also is not None and released:
                also(connection, released)

    def next_lapse_s(self) -> float | None:
        """Seconds until the first lease another core holds lapses (by the database's clock; ≤ 0:
        lapsed already), or None when no other core holds one."""
        parameters = {"me": self.fence.core_id}
        remaining = self._polled.run(lambda connection: connection.execute(sql.NEXT_LAPSE, parameters).scalar())
        return None if remaining is None else int(remaining) / 1000

    def owners(self) -> list[Owner]:
        with self._engine.connect() as connection:
            return [Owner(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in connection.execute(sql.OWNERS)]


def check_partition_count(engine: Engine, partitions: int) -> None:
    """Every core of a database must hash into the same number of partitions: refuse another."""
    with engine.connect() as connection:
        highest = connection.execute(text("SELECT max(partition) FROM partition_leases")).scalar()
    if highest is not None and int(highest) + 1 != partitions:
        raise SystemExit(
            f"core: this database is split into {int(highest) + 1} partitions, not {partitions} "
            "(RINGSIDE_CORE_PARTITIONS must be the same for every core of a database)"
        )
