"""core/store/core_addresses.py and PartitionLeases.hand_back on a real PostgreSQL: the share rule
splits the partitions exactly among the live cores; a core is live while its liveness lock is held;
the partition map names each holder's address; a partition handed back is claimed by the core that
prefers it, and the core that handed it back can no longer write on it (fenced by the epoch)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection, Engine, text

from core.store import core_addresses, partition_windows
from core.store.partition_fence import Fence, PartitionFenced
from core.store.partition_leases import Others, PartitionLeases
from ringside_server.partitions import partition_of
from tests.core.store.postgres import gone, migrated_postgres
from tests.harness import wait_until

PARTITIONS = 8
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with migrated_postgres() as engine:
        yield engine


@pytest.fixture
def fresh(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM partition_leases"))
        connection.execute(text("DELETE FROM core_addresses"))
        connection.execute(text("DELETE FROM partition_windows"))
        connection.execute(text("DELETE FROM transfers"))
        connection.execute(text("DELETE FROM ledger_totals"))
    return engine


def _core(engine: Engine, core_id: str, address: str) -> PartitionLeases:
    leases = PartitionLeases(engine, Fence(core_id, PARTITIONS), ttl_s=30)
    assert leases.hold_liveness_lock()
    core_addresses.advertise(engine, core_id, address)
    return leases


@pytest.mark.parametrize("cores", [1, 2, 3, 5, 8, 9])
def test_the_share_rule_splits_every_partition_once_ceil_or_floor_each(cores: int) -> None:
    live = [f"core-{i}" for i in range(cores)]
    shares = [core_addresses.preferred_partitions(PARTITIONS, live, me) for me in live]
    assert sorted(p for share in shares for p in share) == list(range(PARTITIONS))
    assert {len(share) for share in shares} <= {PARTITIONS // cores, -(-PARTITIONS // cores)}
    for partition in range(PARTITIONS):
        owner = core_addresses.preferring_core(partition, live)
        assert partition in shares[live.index(owner)]


def test_live_cores_are_those_holding_their_liveness_lock(fresh: Engine) -> None:
    a = _core(fresh, "core-a", "127.0.0.1:1")
    b = _core(fresh, "core-b", "127.0.0.1:2")
    try:
        assert core_addresses.live_cores(fresh, "core-a") == ["core-a", "core-b"]
        assert core_addresses.live_cores(fresh, "core-c") == ["core-a", "core-b", "core-c"]
        gone(fresh, b)  # its process gone
        assert core_addresses.live_cores(fresh, "core-a") == ["core-a"]
    finally:
        gone(fresh, a)
        gone(fresh, b)


def test_a_partition_handed_back_goes_to_the_core_preferring_it_and_fences_the_giver(fresh: Engine) -> None:
    a = _core(fresh, "core-a", "127.0.0.1:1")
    b = _core(fresh, "core-b", "127.0.0.1:2")
    try:
        assert set(a.claim()) == set(range(PARTITIONS))  # alone at first: every partition
        live = core_addresses.live_cores(fresh, "core-b")
        wanted = core_addresses.preferred_partitions(PARTITIONS, live, "core-b")
        assert b.claim(sorted(wanted)) == {}  # core-a holds them, live: nothing to take
        a.hand_back(wanted)
        assert set(b.claim(sorted(wanted))) == wanted
        assert set(a.fence.held) == set(range(PARTITIONS)) - wanted
        owners = core_addresses.partition_map(fresh)
        assert {p for p, address in owners.items() if address == "127.0.0.1:2"} == wanted
        assert {p for p, address in owners.items() if address == "127.0.0.1:1"} == set(range(PARTITIONS)) - wanted
        account = next(f"acct_{i}" for i in range(1000) if partition_of(f"acct_{i}", PARTITIONS) in wanted)
        with pytest.raises(PartitionFenced), fresh.begin() as connection:
            a.fence.check(connection, [account])
        with fresh.begin() as connection:
            b.fence.check(connection, [account])  # core-b may write on it now
    finally:
        gone(fresh, a)
        gone(fresh, b)


def test_a_partition_handed_back_and_not_claimed_yet_is_mapped_to_its_taker(fresh: Engine) -> None:
    """Between a hand-back and the taker's claim nobody holds the partition: the map a "not owner"
    answer names owners from gives its taker (never the giver, which let it go), and the taker
    finds it among the released ones (its 0.1 s poll); once claimed, the taker is its holder."""
    a = _core(fresh, "core-a", "127.0.0.1:1")
    b = _core(fresh, "core-b", "127.0.0.1:2")
    try:
        a.claim()
        live = core_addresses.live_cores(fresh, "core-a")
        wanted = core_addresses.preferred_partitions(PARTITIONS, live, "core-b")
        assert b.others().released == set()
        a.hand_back(wanted)
        assert b.others() == Others(["core-a"], wanted)  # one read: the other holders and the released
        owners = core_addresses.owners_map(fresh, live, PARTITIONS)
        assert owners == {p: "127.0.0.1:2" if p in wanted else "127.0.0.1:1" for p in range(PARTITIONS)}
        assert set(b.claim(sorted(wanted))) == wanted
        assert b.others().released == set()
        assert core_addresses.owners_map(fresh, live, PARTITIONS) == owners
    finally:
        gone(fresh, a)
        gone(fresh, b)


def test_a_stale_epoch_is_refused_even_after_the_giver_claims_again(fresh: Engine) -> None:
    """The giver's fence was dropped at hand-back; a later claim gives it a new epoch, and a fence
    still carrying the old one (a commit prepared before) is refused."""
    a = _core(fresh, "core-a", "127.0.0.1:1")
    try:
        a.claim([3])
        old = dict(a.fence.held)
        a.hand_back([3])
        assert 3 not in a.fence.held
        a.claim([3])
        assert a.fence.held[3] == old[3] + 1
        stale = Fence("core-a", PARTITIONS, old)
        account = next(f"acct_{i}" for i in range(1000) if partition_of(f"acct_{i}", PARTITIONS) == 3)
        with pytest.raises(PartitionFenced), fresh.begin() as connection:
            stale.check(connection, [account])
    finally:
        gone(fresh, a)


def test_a_frozen_cores_lapsed_partitions_are_claimed_but_a_released_one_is_left_to_its_core(
    fresh: Engine,
) -> None:
    """A core that stops renewing (SIGSTOP) keeps its liveness lock: its partitions are claimed at
    their lapse by a live core, which fences it (its renewal then finds them lost). A partition
    released by a hand-back is not: the core preferring it claims it."""
    frozen = PartitionLeases(fresh, Fence("core-a", PARTITIONS), ttl_s=2)
    assert frozen.hold_liveness_lock()
    b = _core(fresh, "core-b", "127.0.0.1:2")
    try:
        frozen.claim([1, 2, 3])
        frozen.hand_back([3])  # released: left for its preferring core
        assert b.claim_lapsed() == {}  # not lapsed yet
        wait_until(lambda: b.claim_lapsed(), 10, "the lapse")
        assert set(b.fence.held) == {1, 2}
        assert frozen.renew() == {1, 2}  # resumed: lost, it stops
    finally:
        gone(fresh, frozen)
        gone(fresh, b)


def test_a_core_that_stops_renewing_is_left_out_of_the_split_until_it_renews_again(fresh: Engine) -> None:
    """The heartbeat: a core whose renewals stopped (frozen, its liveness lock still held) is not
    counted in the split once its heartbeat is older than `fresh_ms`, so nothing is handed back to
    it; its next renewal counts it again — unless that renewal finds a partition lost (then it
    writes no heartbeat: it stops)."""
    a = _core(fresh, "core-a", "127.0.0.1:1")
    b = _core(fresh, "core-b", "127.0.0.1:2")
    b.on_renew = lambda connection: core_addresses.heartbeat(connection, "core-b", "127.0.0.1:2")
    try:
        assert core_addresses.live_cores(fresh, "core-a", fresh_ms=60_000) == ["core-a", "core-b"]
        b.claim([1])
        _age_heartbeat(fresh, "core-b")  # as after a freeze longer than fresh_ms
        assert core_addresses.live_cores(fresh, "core-a", fresh_ms=60_000) == ["core-a"]
        assert core_addresses.preferred_partitions(PARTITIONS, ["core-a"], "core-a") == set(range(PARTITIONS))
        assert b.renew() == set()  # resumed in time: renewing again, counted again
        assert core_addresses.live_cores(fresh, "core-a", fresh_ms=60_000) == ["core-a", "core-b"]
        _age_heartbeat(fresh, "core-b")
        with fresh.begin() as connection:  # frozen past the lapse: another core claimed its partition
            connection.execute(text("UPDATE partition_leases SET owner = 'core-a', epoch = epoch + 1"))
        assert b.renew() == {1}
        assert core_addresses.live_cores(fresh, "core-a", fresh_ms=60_000) == ["core-a"]
    finally:
        gone(fresh, a)
        gone(fresh, b)


def _age_heartbeat(engine: Engine, core_id: str) -> None:
    with engine.begin() as connection:
        connection.execute(
            text("UPDATE core_addresses SET updated_at_ms = updated_at_ms - 3600000 + 1 WHERE core_id = :c"),
            {"c": core_id},
        )


def test_a_hand_back_writes_its_windows_in_the_release_and_the_taker_reads_them(fresh: Engine) -> None:
    """Rate-limit windows go with a partition handed back: written in the release's transaction for
    the partitions it released, read by the core that claims them (left in place). A giver already
    fenced (its partition claimed by another at its lapse) releases nothing and writes nothing."""
    a = _core(fresh, "core-a", "127.0.0.1:1")
    b = _core(fresh, "core-b", "127.0.0.1:2")
    windows = [
        (2, ("customer", "cus_2"), [(100.0, 1, 10), (101.5, 1, 20)]),
        (3, ("account", "acct_3", "True"), [(102.0, 16, 0)]),
    ]

    def with_windows(connection: Connection, released: set[int]) -> None:
        partition_windows.save(connection, [w for w in windows if w[0] in released])

    try:
        a.claim([2, 3])
        with fresh.begin() as connection:  # partition 3 taken from core-a behind its back (a lapse)
            connection.execute(
                text("UPDATE partition_leases SET owner = 'core-b', epoch = epoch + 1 WHERE partition = 3")
            )
        a.hand_back([2, 3], with_windows)
        assert partition_windows.read(fresh, [3]) == []  # fenced on 3: nothing written for it
        assert set(b.claim([2])) == {2}
        assert partition_windows.read(fresh, [2, 3]) == [(("customer", "cus_2"), [(100.0, 1, 10), (101.5, 1, 20)])]
        # left in place for a later owner (core-b's checkpoints write over them)
        assert partition_windows.read(fresh, [2]) == [(("customer", "cus_2"), [(100.0, 1, 10), (101.5, 1, 20)])]
    finally:
        gone(fresh, a)
        gone(fresh, b)


def test_a_checkpoint_writes_the_windows_of_partitions_still_held_and_a_taker_takes_the_latest(
    fresh: Engine,
) -> None:
    """Checkpoints (core/store/partition_windows.py `checkpoint`): each writes the changed windows
    over the last ones and deletes the gone ones, only on the partitions this core holds at its
    epoch; one handed back, or taken at its lapse, is never written. The core taking a partition
    over after a death takes the latest checkpoint."""
    a = _core(fresh, "core-a", "127.0.0.1:1")
    b = _core(fresh, "core-b", "127.0.0.1:2")
    customer, account = ("customer", "cus_2"), ("account", "acct_3", "True")
    try:
        a.claim([2, 3, 4])
        assert partition_windows.checkpoint(fresh, a.fence, [(2, customer, [(100.0, 1, 10)])], []) == 1
        again = [(2, customer, [(100.0, 1, 10), (101.0, 1, 5)]), (3, account, [(102.0, 16, 0)])]
        assert partition_windows.checkpoint(fresh, a.fence, again, []) == 2  # the customer's written over
        assert partition_windows.checkpoint(fresh, a.fence, [], [(3, account)]) == 1  # gone (swept)
        a.hand_back([4])
        with fresh.begin() as connection:  # partition 2 claimed from core-a at its lapse
            connection.execute(
                text("UPDATE partition_leases SET owner = 'core-b', epoch = epoch + 1 WHERE partition = 2")
            )
        stale = [(2, customer, [(200.0, 9, 9)]), (4, account, [(200.0, 9, 9)])]
        assert partition_windows.checkpoint(fresh, a.fence, stale, [(2, customer)]) == 0  # fenced: nothing
        gone(fresh, a)  # core-a dies
        assert set(b.take_from_dead()) == {3, 4}  # its rows, the released one too
        assert partition_windows.read(fresh, [2, 3]) == [(customer, [(100.0, 1, 10), (101.0, 1, 5)])]
        assert partition_windows.read(fresh, [4]) == []
    finally:
        gone(fresh, a)
        gone(fresh, b)
