"""Partition leases with fencing (PostgreSQL only; DECISIONS.md 25).

Each core claims partitions of the accounts by a row per partition: (partition, owner, epoch,
expires_at_ms). A claim takes a partition that is free, expired, or already this core's, and always
adds one to its epoch; the owner renews its rows (same epoch) well before they expire. Advisory
locks alone would not fence — a paused core keeps its session and would write on when resumed — so
**every commit that writes an account's records checks, in its own transaction, that this core still
holds that account's partition at the epoch it claimed** (`Fence.check`: `SELECT … FOR SHARE`). A
stale owner's commit therefore rolls back whole, whatever its records were; and because FOR SHARE
conflicts with the claim's UPDATE, a takeover waits for a commit in flight and then loads its state
after it, never before. Times are the database's clock (`clock_timestamp()`), so the cores' clocks
need not agree.

**A dead core is found sooner than its lapse** by its liveness lock: every core holds a
session-level advisory lock keyed by its id (`LIVENESS_LOCK_PREFIX` + id) on a connection of its
own from before its first claim until it stops. A process that dies loses its session, and the lock
with it, at once; a waiting core that can take the owner's lock (as a transaction-level lock, so the
owner restarted under the same id cannot take its own back meanwhile) takes that owner's partitions
in the same transaction, lapsed or not (`take_from_dead`). The lock only speeds the takeover up; it
fences nothing (a paused core keeps its session and its lock: its partitions lapse after the TTL as
before), and a core that lost its database session while alive is fenced by the epoch like any
stale owner.

Writes that name no account (outbox relays and delivery attempts, retention purges, idempotency
pruning, resealing at rest) are fenced on the **system partition** (`SYSTEM_PARTITION`, 0): the commit
checks this core holds it at its epoch, like any account's, so a stale core writes none of them.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from psycopg.errors import LockNotAvailable
from sqlalchemy import Connection, Engine, bindparam, text
from sqlalchemy.exc import OperationalError

from core.store.engine import PolledReads
from ringside_server.errors import RingsideError
from ringside_server.partitions import partition_of

log = logging.getLogger("ringside.core.partitions")

# The partition account-less writes are fenced on: only its owner may write them.
SYSTEM_PARTITION = 0

_NOW_MS = "CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT)"

_ENSURE = text(
    "INSERT INTO partition_leases (partition, owner, epoch, expires_at_ms) "
    "SELECT p, '', 0, 0 FROM generate_series(0, :count - 1) AS p ON CONFLICT (partition) DO NOTHING"
)
# Rows locked in partition order by every statement here: two claims, or a claim and a commit's
# check, never wait on each other in a cycle.
_CLAIM = text(
    "UPDATE partition_leases SET owner = :me, epoch = epoch + 1, "
    f"expires_at_ms = {_NOW_MS} + :ttl_ms "
    "WHERE partition IN (SELECT partition FROM partition_leases WHERE partition IN :wanted "
    f"AND (owner = :me OR owner = '' OR expires_at_ms < {_NOW_MS}) ORDER BY partition FOR UPDATE) "
    "RETURNING partition, epoch"
).bindparams(bindparam("wanted", expanding=True))
_RENEW = text(
    f"UPDATE partition_leases SET expires_at_ms = {_NOW_MS} + :ttl_ms "
    "WHERE partition IN (SELECT partition FROM partition_leases WHERE partition IN :held AND owner = :me "
    "ORDER BY partition FOR UPDATE) RETURNING partition, epoch"
).bindparams(bindparam("held", expanding=True))
_RELEASE = text(
    "UPDATE partition_leases SET expires_at_ms = 0 WHERE partition = :partition AND owner = :me AND epoch = :epoch"
)
_CHECK = text(
    "SELECT partition, owner, epoch FROM partition_leases WHERE partition IN :partitions ORDER BY partition FOR SHARE"
).bindparams(bindparam("partitions", expanding=True))
# `_BOUND_IDLE` and `_CHECK` in one statement (the group commit's fence, Fence.check): one row per
# lease row locked, or one row of NULLs when none is, so that set_config runs either way.
_CHECK_BOUNDED = text(
    "SELECT held.partition, held.owner, held.epoch, set_config('idle_in_transaction_session_timeout', :ms, true) "
    "FROM (SELECT 1) AS one LEFT JOIN LATERAL (SELECT partition, owner, epoch FROM partition_leases "
    "WHERE partition IN :partitions ORDER BY partition FOR SHARE) AS held ON true"
).bindparams(bindparam("partitions", expanding=True))
_NEXT_LAPSE = text(f"SELECT min(expires_at_ms - {_NOW_MS}) FROM partition_leases WHERE owner <> :me AND owner <> ''")
# A core's liveness lock key (`liveness_key`) computed by PostgreSQL: the first 8 bytes of the
# SHA-256 of the prefixed id, big-endian, signed.
_KEY_OF_OWNER = (
    "CAST(CAST('x' || left(encode(sha256(convert_to(:prefix || o.owner, 'UTF8')), 'hex'), 16) AS bit(64)) AS bigint)"
)
# The other cores holding partitions, those of them whose liveness lock is free (their process is
# gone: probed in this statement, each lock taken released as it ends — autocommit), and the
# partitions released (by a hand-back or a clean stop: expires_at_ms = 0) or never claimed, not this
# core's: the death poll's one read of the 256-row table (every DEATH_POLL_S on each core; a
# statement's round trip is most of what an idle core spends). A transaction that takes a dead
# core's partitions (and probes its lock again, `_DEAD_OWNERS`) is opened only when one is gone.
_OTHERS = text(
    "SELECT array_agg(o.owner ORDER BY o.owner) FILTER (WHERE o.owner <> ''), "
    f"array_agg(o.owner ORDER BY o.owner) FILTER (WHERE o.owner <> '' AND pg_try_advisory_xact_lock({_KEY_OF_OWNER})), "
    "(SELECT array_agg(partition ORDER BY partition) FROM partition_leases WHERE owner <> :me AND expires_at_ms = 0) "
    "FROM (SELECT DISTINCT owner FROM partition_leases WHERE owner <> :me) AS o"
)
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:key)")
# The other owners whose liveness lock is free (their process is gone), probed in one statement
# whatever their number, the transaction's idle time bounded by it too (`_BOUND_IDLE`); the locks
# taken are held until the transaction that takes their partitions ends.
_DEAD_OWNERS = text(
    "SELECT o.owner, set_config('idle_in_transaction_session_timeout', :ms, true) "
    "FROM unnest(CAST(:owners AS text[]), CAST(:keys AS bigint[])) AS o(owner, key) "
    "WHERE pg_try_advisory_xact_lock(o.key) ORDER BY o.owner"
)
_TAKE_FROM = text(
    f"UPDATE partition_leases SET owner = :me, epoch = epoch + 1, expires_at_ms = {_NOW_MS} + :ttl_ms "
    "WHERE partition IN (SELECT partition FROM partition_leases WHERE owner = :dead ORDER BY partition FOR UPDATE) "
    "RETURNING partition, epoch"
)
# Another core's partitions whose lease lapsed without a release (expires_at_ms > 0: a release sets
# 0): their owner stopped renewing (frozen, cut off from the database) while its liveness lock may
# still be held. A released partition is left to the core that prefers it.
_CLAIM_LAPSED = text(
    "UPDATE partition_leases SET owner = :me, epoch = epoch + 1, "
    f"expires_at_ms = {_NOW_MS} + :ttl_ms "
    "WHERE partition IN (SELECT partition FROM partition_leases WHERE owner <> :me AND owner <> '' "
    f"AND expires_at_ms > 0 AND expires_at_ms < {_NOW_MS} ORDER BY partition FOR UPDATE) "
    "RETURNING partition, epoch"
)
LIVENESS_LOCK_PREFIX = "ringside-core-alive:"
# A core's sessions are named (application_name) by a hash of its id: a core claiming another's
# lapsed partitions ends that core's sessions left idle in a transaction longer than the TTL — a
# core frozen mid-commit keeps the lease rows it locked FOR SHARE, and the TTL bound of
# `_BOUND_IDLE` does not fire after a pipelined executemany (psycopg), where the backend never
# went idle at a Sync. Its leases lapsed and its transaction sat a TTL: ending it loses no write
# that could still land (the fence would refuse it).
SESSION_PREFIX = "ringside-core "
_END_FROZEN = text(
    "SELECT count(pg_terminate_backend(a.pid)) FROM pg_stat_activity a WHERE a.datname = current_database() "
    "AND a.pid <> pg_backend_pid() AND a.application_name IN :names "
    "AND a.state IN ('idle in transaction', 'idle in transaction (aborted)') "
    "AND a.state_change < clock_timestamp() - make_interval(secs => :idle_s)"
).bindparams(bindparam("names", expanding=True))
_LAPSED_OWNERS = text(
    "SELECT DISTINCT owner FROM partition_leases WHERE owner <> :me AND owner <> '' "
    f"AND expires_at_ms > 0 AND expires_at_ms < {_NOW_MS}"
)
_OWNERS = text(f"SELECT partition, owner, epoch, expires_at_ms - {_NOW_MS} FROM partition_leases ORDER BY partition")
# How long a transaction that locks lease rows (a commit's fence check, a claim, a renewal) may sit
# idle before PostgreSQL ends its session: a core frozen mid-transaction (SIGSTOP, a VM pause) would
# otherwise keep those rows, and the ledger rows its commit wrote, locked until it is resumed — and
# every core claiming its lapsed partitions, or writing for the same customers, would wait on it.
_BOUND_IDLE = text("SELECT set_config('idle_in_transaction_session_timeout', :ms, true)")
# A claim waits at most TTL / 4 for row locks, then gives up this round (`_claim_waiting`): it
# runs under the lease mutex, and a claim blocked for good by a frozen core's transaction would
# stall this core's own renewals; the next round ends that transaction first (`_END_FROZEN`).
_LOCK_WAIT = text("SELECT set_config('lock_timeout', :ms, true)")


class PartitionFenced(RingsideError):
    """This core no longer holds the partition at the epoch it claimed: its write did not land."""

    def __init__(self, partitions: Iterable[int]) -> None:
        listed = sorted(partitions)
        self.partitions = listed
        super().__init__(
            "service_unavailable",
            f"This core no longer owns partition {listed[0]} of these accounts; retry the request.",
        )


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


@dataclass
class Fence:
    """What the group commit checks: the partitions this core holds and at which epoch. Replaced
    whole (never edited in place) by the lease loop, read by the writer's thread."""

    core_id: str
    partitions: int
    held: dict[int, int] = field(default_factory=dict)
    # The longest this core's transactions that lock lease rows may sit idle (`_BOUND_IDLE`), in
    # milliseconds (the lease TTL: a core stalled that long has lost its partitions anyway); 0: unbounded.
    idle_ms: int = 0

    def check(self, connection: Connection, account_ids: Iterable[str], system: bool = False) -> None:
        """In the commit's transaction: every account's partition (and with `system`, the system
        partition) is still this core's at its epoch, or PartitionFenced (the transaction then
        rolls back). The transaction's idle time is bounded too (`_BOUND_IDLE`), on PostgreSQL by
        the statement that locks the lease rows (`_CHECK_BOUNDED`)."""
        wanted = {partition_of(account_id, self.partitions) for account_id in account_ids}
        if system:
            wanted.add(SYSTEM_PARTITION)
        held = self.held
        stale = {p for p in wanted if p not in held}
        asked = sorted(wanted - stale)
        if asked and self.idle_ms > 0 and connection.dialect.name == "postgresql":
            # One round trip a commit instead of two: the bound is set by the statement that locks.
            bounded = connection.execute(_CHECK_BOUNDED, {"partitions": asked, "ms": str(self.idle_ms)})
            rows = [row for row in bounded if row[0] is not None]
        else:
            bound_idle(connection, self.idle_ms)
            rows = list(connection.execute(_CHECK, {"partitions": asked})) if asked else []
        found = {int(row[0]): (str(row[1]), int(row[2])) for row in rows}
        stale |= {p for p in wanted - stale if found.get(p) != (self.core_id, held[p])}
        if stale:
            raise PartitionFenced(stale)


def bound_idle(connection: Connection, idle_ms: int) -> None:
    """This transaction's session ends if it sits idle `idle_ms` (its row locks go with it); 0: no bound."""
    if idle_ms > 0 and connection.dialect.name == "postgresql":
        connection.execute(_BOUND_IDLE, {"ms": str(idle_ms)})


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
            held = bool(connection.execute(_TRY_LOCK, {"key": liveness_key(self.fence.core_id)}).scalar())
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
        """The other cores holding partitions, the partitions released, the others gone (see `_OTHERS`)."""
        parameters = {"me": self.fence.core_id, "prefix": LIVENESS_LOCK_PREFIX}
        owners, gone, released = self._polled.run(lambda connection: connection.execute(_OTHERS, parameters).one())
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
            for owner, _ in connection.execute(_DEAD_OWNERS, probe).all():
                parameters = {"me": fence.core_id, "ttl_ms": self._ttl_ms, "dead": owner}
                rows = {int(row[0]): int(row[1]) for row in connection.execute(_TAKE_FROM, parameters)}
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
            connection.execute(_ENSURE, {"count": fence.partitions})
            rows = connection.execute(_CLAIM, {"me": fence.core_id, "ttl_ms": self._ttl_ms, "wanted": partitions}).all()
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
        """Another core's partitions whose lease lapsed unreleased (see `_CLAIM_LAPSED`); → those
        claimed and their epochs (added to `fence.held`). Their owner's later commits are fenced.
        None lapsed (most rounds): no claim's transaction (one that lapses meanwhile waits a round,
        as if it had lapsed just after)."""
        if not self._end_frozen_sessions():
            return {}
        with self._claim_waiting() as connection:
            rows = connection.execute(_CLAIM_LAPSED, {"me": self.fence.core_id, "ttl_ms": self._ttl_ms}).all()
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
                    connection.execute(_LOCK_WAIT, {"ms": str(max(self._ttl_ms // 4, 50))})
                yield connection
        except OperationalError as error:
            if not isinstance(error.orig, LockNotAvailable):
                raise
            log.warning("a claim waited past TTL / 4 on a row lock (a frozen commit?); retrying next round")
            raise _GaveUp from error

    def _end_frozen_sessions(self) -> list[str]:
        """Ends the sessions of the cores whose leases lapsed unreleased that sat idle in a
        transaction longer than the TTL (see `_END_FROZEN`), before claiming: their row locks would
        hold the claim until they are resumed (PostgreSQL lets a role end its own role's sessions;
        where it may not, the claim waits as before). → those cores (none: no lease lapsed)."""
        parameters = {"me": self.fence.core_id}
        owners = self._polled.run(lambda c: [str(row[0]) for row in c.execute(_LAPSED_OWNERS, parameters)])
        if not owners:
            return owners
        ending = {"names": [session_name(owner) for owner in owners], "idle_s": self._ttl_ms / 1000}
        ended = int(self._polled.run(lambda connection: connection.execute(_END_FROZEN, ending).scalar()) or 0)
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
            renewed = {int(row[0]): int(row[1]) for row in connection.execute(_RENEW, parameters)} if held else {}
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
                    _RELEASE, {"partition": partition, "me": self.fence.core_id, "epoch": epoch}
                )
                if result.rowcount:
                    released.add(partition)
            if also is not None and released:
                also(connection, released)

    def next_lapse_s(self) -> float | None:
        """Seconds until the first lease another core holds lapses (by the database's clock; ≤ 0:
        lapsed already), or None when no other core holds one."""
        parameters = {"me": self.fence.core_id}
        remaining = self._polled.run(lambda connection: connection.execute(_NEXT_LAPSE, parameters).scalar())
        return None if remaining is None else int(remaining) / 1000

    def owners(self) -> list[Owner]:
        with self._engine.connect() as connection:
            return [Owner(int(r[0]), str(r[1]), int(r[2]), int(r[3])) for r in connection.execute(_OWNERS)]


def check_partition_count(engine: Engine, partitions: int) -> None:
    """Every core of a database must hash into the same number of partitions: refuse another."""
    with engine.connect() as connection:
        highest = connection.execute(text("SELECT max(partition) FROM partition_leases")).scalar()
    if highest is not None and int(highest) + 1 != partitions:
        raise SystemExit(
            f"core: this database is split into {int(highest) + 1} partitions, not {partitions} "
            "(RINGSIDE_CORE_PARTITIONS must be the same for every core of a database)"
        )
