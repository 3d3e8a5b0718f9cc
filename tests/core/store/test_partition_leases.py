"""core/store/partition_leases.py on a real PostgreSQL: a core claims every partition; a stale owner
(its lease lapsed while it was paused, another core claimed) cannot write — its commit rolls back
whole and leaves no row — and learns it lost them; a takeover waits for a commit in flight; a core
restarted under the same id takes its partitions back at once and fences its older self; writes
that name no account (purges, outbox relays) are fenced on the system partition."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import DBAPIError

from core.domain.entities import IdempotentResponse, Transfer
from core.domain.retention import IdempotencyPurge
from core.store.driver_sql import execute_many
from core.store.engine import make_engine
from core.store.partition_fence import SYSTEM_PARTITION, Fence, PartitionFenced
from core.store.partition_lease_sql import KEY_OF_OWNER
from core.store.partition_leases import (
    LIVENESS_LOCK_PREFIX,
    Others,
    PartitionLeases,
    check_partition_count,
    liveness_key,
    session_name,
)
from core.store.tables import IDEMPOTENCY, TRANSFERS
from core.store.writer import GroupCommitWriter
from ringside_server.partitions import partition_of
from tests.core.store.postgres import gone, migrated_postgres
from tests.harness import wait_until

PARTITIONS = 8
NOW = 1_800_000_000
pytestmark = pytest.mark.postgres


@pytest.fixture(scope="module")
def engine() -> Iterator[Engine]:
    with migrated_postgres() as engine:
        yield engine


@pytest.fixture
def fresh(engine: Engine) -> Engine:
    with engine.begin() as connection:
        connection.execute(text("DELETE FROM partition_leases"))
        connection.execute(text("DELETE FROM transfers"))
        connection.execute(text("DELETE FROM ledger_totals"))
        connection.execute(text("DELETE FROM idempotency_keys"))
    return engine


def _leases(engine: Engine, core_id: str) -> PartitionLeases:
    return PartitionLeases(engine, Fence(core_id, PARTITIONS), ttl_s=30)


def _lapse(engine: Engine) -> None:
    """Every lease lapses (as after a core paused past its TTL), without waiting for it."""
    with engine.begin() as connection:
        connection.execute(text("UPDATE partition_leases SET expires_at_ms = 0"))


def _transfer(transfer_id: str, account_id: str) -> Transfer:
    return Transfer(transfer_id, account_id, True, "cust:a", "revenue:a", 1_000, "post", "req_" + transfer_id, NOW, NOW)


def _rows(engine: Engine, transfer_id: str) -> int:
    with engine.connect() as connection:
        query = select(func.count()).select_from(TRANSFERS).where(TRANSFERS.c.id == transfer_id)
        return int(connection.execute(query).scalar_one())


@pytest.fixture
async def writers(fresh: Engine) -> AsyncIterator[list[GroupCommitWriter]]:
    started: list[GroupCommitWriter] = []
    yield started
    for writer in started:
        await writer.close()


def _writer(engine: Engine, leases: PartitionLeases, started: list[GroupCommitWriter]) -> GroupCommitWriter:
    writer = GroupCommitWriter(engine, fence=leases.fence)
    writer.start()
    started.append(writer)
    return writer


async def test_a_fenced_core_cannot_write_and_leaves_no_row(fresh: Engine, writers: list[GroupCommitWriter]) -> None:
    first = _leases(fresh, "core-a")
    assert first.claim() == {p: 1 for p in range(PARTITIONS)}  # alone: every partition
    assert _leases(fresh, "core-b").claim() == {}  # held and live: nothing for another core
    stale = _writer(fresh, first, writers)
    await stale.write([_transfer("t_before", "acct_1")])
    assert _rows(fresh, "t_before") == 1

    _lapse(fresh)  # core-a paused past its lease…
    second = _leases(fresh, "core-b")
    assert second.claim() == {p: 2 for p in range(PARTITIONS)}  # …and core-b took every partition over

    with pytest.raises(PartitionFenced) as fenced:  # core-a resumes and writes: refused in its transaction
        await stale.write([_transfer("t_stale", "acct_1"), _transfer("t_stale_2", "acct_2")])
    assert fenced.value.code == "service_unavailable"
    assert _rows(fresh, "t_stale") == 0 and _rows(fresh, "t_stale_2") == 0  # nothing of the commit landed
    with fresh.connect() as connection:
        moved = connection.execute(text("SELECT sum(debit_nano) FROM ledger_totals WHERE kind = 'post'")).scalar_one()
    assert moved == 1_000  # the running totals moved for t_before only

    assert first.renew() == set(range(PARTITIONS))  # core-a learns it lost them all
    assert first.fence.held == {}
    await _writer(fresh, second, writers).write([_transfer("t_after", "acct_1")])
    assert _rows(fresh, "t_after") == 1


async def test_only_the_lost_partitions_units_fail_in_a_shared_commit(
    fresh: Engine, writers: list[GroupCommitWriter]
) -> None:
    first = _leases(fresh, "core-a")
    first.claim()
    kept, lost = "acct_kept", next(f"acct_{i}" for i in range(100) if partition_of(f"acct_{i}", PARTITIONS) != 0)
    while partition_of(kept, PARTITIONS) == partition_of(lost, PARTITIONS):
        kept += "x"
    with fresh.begin() as connection:  # the lost account's partition lapses and core-b claims it
        connection.execute(
            text("UPDATE partition_leases SET expires_at_ms = 0 WHERE partition = :p"),
            {"p": partition_of(lost, PARTITIONS)},
        )
    assert list(_leases(fresh, "core-b").claim()) == [partition_of(lost, PARTITIONS)]

    writer = _writer(fresh, first, writers)
    results = await asyncio.gather(
        writer.write([_transfer("t_kept", kept)]), writer.write([_transfer("t_lost", lost)]), return_exceptions=True
    )
    assert results[0] is None and isinstance(results[1], PartitionFenced)
    assert (_rows(fresh, "t_kept"), _rows(fresh, "t_lost")) == (1, 0)


async def test_account_less_writes_are_fenced_on_the_system_partition(
    fresh: Engine, writers: list[GroupCommitWriter]
) -> None:
    """A purge names no account: only the system partition's owner at its epoch may write it. A
    core that lost only that partition still writes its other accounts' records."""
    first = _leases(fresh, "core-a")
    first.claim()
    account = next(f"acct_{i}" for i in range(100) if partition_of(f"acct_{i}", PARTITIONS) != SYSTEM_PARTITION)
    writer = _writer(fresh, first, writers)
    await writer.write([IdempotentResponse(account, True, "/v1/x", "k1", "h", 200, b"{}", NOW)])
    with fresh.begin() as connection:  # the system partition lapses and core-b claims it
        connection.execute(
            text("UPDATE partition_leases SET expires_at_ms = 0 WHERE partition = :p"), {"p": SYSTEM_PARTITION}
        )
    second = _leases(fresh, "core-b")
    assert list(second.claim()) == [SYSTEM_PARTITION]

    with pytest.raises(PartitionFenced):  # core-a's purge of every old key: refused in its transaction
        await writer.write([IdempotencyPurge(NOW + 1)])
    assert _idempotency_rows(fresh) == 1  # nothing was purged
    await writer.write([_transfer("t_other", account)])  # its own account's partition: still its to write
    assert _rows(fresh, "t_other") == 1

    await _writer(fresh, second, writers).write([IdempotencyPurge(NOW + 1)])
    assert _idempotency_rows(fresh) == 0  # the system partition's owner purges


def _idempotency_rows(engine: Engine) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(IDEMPOTENCY)).scalar_one())


@pytest.mark.parametrize("idle_ms", [0, 60_000])
def test_a_takeover_waits_for_a_commit_in_flight(fresh: Engine, idle_ms: int) -> None:
    """The check takes FOR SHARE on the lease row: a claim's UPDATE waits for the commit, so the new
    owner loads its state after the old owner's last write, never before it. With an idle bound (as
    a core runs) the check and the bound are one statement, which must lock as the plain check does."""
    fence = Fence("core-a", PARTITIONS, idle_ms=idle_ms)
    first = PartitionLeases(fresh, fence, ttl_s=0.001)  # lapses as soon as it is held
    first.claim()
    wait_until(lambda: _live_leases(fresh) == 0, 10, "the leases to lapse")
    claimed: dict[int, int] = {}
    with fresh.connect() as connection:
        transaction = connection.begin()
        first.fence.check(connection, ["acct_1"])  # lapsed but not taken: still core-a's to write
        connection.execute(TRANSFERS.insert(), [_row("t_in_flight", "acct_1")])
        taker = threading.Thread(target=lambda: claimed.update(_leases(fresh, "core-b").claim()))
        taker.start()
        wait_until(lambda: _waiting_on_locks(fresh) >= 1, 10, "the claim to wait on the commit's lock")
        assert claimed == {}
        transaction.commit()
    taker.join(10)
    assert claimed == {p: 2 for p in range(PARTITIONS)}
    assert _rows(fresh, "t_in_flight") == 1


@pytest.mark.parametrize(("accounts", "system"), [(["acct_1"], False), ([], True), ([], False)])
def test_the_fence_check_bounds_its_transactions_idle_time(fresh: Engine, accounts: list[str], system: bool) -> None:
    """Every commit's transaction ends with its session once idle past the bound (a frozen core's
    locks go with it), whether it checks an account's partition, the system one, or none."""
    leases = PartitionLeases(fresh, Fence("core-a", PARTITIONS, idle_ms=4321), ttl_s=30)
    leases.claim()
    with fresh.connect() as connection, connection.begin():
        leases.fence.check(connection, accounts, system=system)
        bound = connection.exec_driver_sql("SHOW idle_in_transaction_session_timeout").scalar()
    assert bound == "4321ms"


@pytest.mark.parametrize("pipelined", [False, True])
def test_a_frozen_commit_holding_lease_rows_ends_with_its_session_and_the_claim_goes_on(
    fresh: Engine, pipelined: bool
) -> None:
    """A core frozen (SIGSTOP) between its fence check and its COMMIT keeps the rows it locked FOR
    SHARE (and those its statements wrote): unbounded, every claim of its lapsed partitions would
    wait until it is resumed. Its transaction ends with its session — by its own idle bound after a
    plain statement; after a pipelined executemany (psycopg), where that bound never fires, by the
    claiming core, which ends a lapsed owner's sessions idle in a transaction past the TTL. The
    claim then proceeds and the frozen commit never lands."""
    url = fresh.url.render_as_string(hide_password=False)
    frozen_engine = make_engine(url, application_name=session_name("core-a"))  # as a core names its sessions
    first = PartitionLeases(frozen_engine, Fence("core-a", PARTITIONS, idle_ms=300), ttl_s=0.001)
    first.claim()
    wait_until(lambda: _live_leases(fresh) == 0, 10, "the leases to lapse")
    taker = PartitionLeases(fresh, Fence("core-b", PARTITIONS), ttl_s=0.4)
    claimed: dict[int, int] = {}
    try:
        with frozen_engine.connect() as connection:
            connection.begin()
            first.fence.check(connection, ["acct_1"])
            if pipelined:  # how the group commit writes its rows (core/store/driver_sql.py)
                execute_many(connection, TRANSFERS.insert(), [_row("t_frozen", "acct_1"), _row("t_frozen_2", "acct_1")])
            else:
                connection.execute(TRANSFERS.insert(), [_row("t_frozen", "acct_1")])
            # frozen here: no COMMIT comes. The taker's rounds (each claim waits TTL / 4 at most):
            for _ in range(100):
                claimed.update(taker.claim())
                if claimed:
                    break
                time.sleep(0.1)
            assert claimed == {p: 2 for p in range(PARTITIONS)}, "the claim still waits on the frozen transaction"
            with pytest.raises(DBAPIError):  # resumed: its session was ended, its commit cannot land
                connection.commit()
        assert _rows(fresh, "t_frozen") == 0
    finally:
        frozen_engine.dispose()


def test_a_restart_under_the_same_id_takes_its_partitions_back_and_fences_its_older_self(fresh: Engine) -> None:
    older = _leases(fresh, "core-a")
    older.claim()
    newer = _leases(fresh, "core-a")
    assert newer.claim() == {p: 2 for p in range(PARTITIONS)}  # no wait: they were its own
    with fresh.connect() as connection, pytest.raises(PartitionFenced):
        older.fence.check(connection, ["acct_1"])
    assert older.renew() == set(range(PARTITIONS))
    newer.release()  # a clean stop: another core need not wait out the lease
    assert _leases(fresh, "core-b").claim() == {p: 3 for p in range(PARTITIONS)}


def test_a_waiting_core_knows_when_the_first_lease_it_waits_for_lapses(fresh: Engine) -> None:
    waiting = _leases(fresh, "core-b")
    assert waiting.next_lapse_s() is None  # nobody else holds one
    _leases(fresh, "core-a").claim()
    remaining_s = waiting.next_lapse_s()
    assert remaining_s is not None and 0 < remaining_s <= 30  # the holder's TTL, by the database's clock
    _lapse(fresh)
    lapsed_s = waiting.next_lapse_s()
    assert lapsed_s is not None and lapsed_s <= 0  # lapsed: claim now
    assert waiting.claim() == {p: 2 for p in range(PARTITIONS)}


def test_a_dead_cores_partitions_are_taken_when_its_liveness_lock_is_free(fresh: Engine) -> None:
    """Alive (or paused), a core holds its lock and keeps its partitions until they lapse; once its
    session is gone (the process died) a waiting core takes them at once, unlapsed, and fences it."""
    first = _leases(fresh, "core-a")
    assert first.hold_liveness_lock()
    first.claim()
    waiting = _leases(fresh, "core-b")
    assert waiting.hold_liveness_lock()
    assert waiting.take_from_dead() == {}  # core-a's lock is held: alive
    again = _leases(fresh, "core-a")
    assert not again.hold_liveness_lock()  # a second process under the same id waits for it

    gone(fresh, first)  # its session ends, as when its process dies
    assert waiting.take_from_dead() == {p: 2 for p in range(PARTITIONS)}  # lapsed or not
    with fresh.connect() as connection, pytest.raises(PartitionFenced):
        first.fence.check(connection, ["acct_1"])
    assert again.hold_liveness_lock()  # its successor now may start (as a standby: nothing is free)
    assert again.claim() == {}
    waiting.release()
    assert again.claim() == {p: 3 for p in range(PARTITIONS)}
    again.release()


def test_one_probe_takes_every_dead_cores_partitions_and_leaves_the_live_ones(fresh: Engine) -> None:
    """Three other owners, two of them gone: one pass takes both dead ones' partitions (each at its
    next epoch) and none of the live one's; the live one is still not fenced."""
    # names of their own: a liveness lock another test of this module left held (its session not
    # yet collected) would be taken for a live core's
    owners = {name: _leases(fresh, name) for name in ("probe-a", "probe-b", "probe-c")}
    for index, (name, leases) in enumerate(owners.items()):
        assert leases.hold_liveness_lock()
        assert leases.claim([p for p in range(PARTITIONS) if p % 3 == index]), name
    taker = _leases(fresh, "probe-d")
    assert taker.hold_liveness_lock()
    assert taker.take_from_dead() == {}
    gone(fresh, owners["probe-a"])
    gone(fresh, owners["probe-c"])
    dead = [p for p in range(PARTITIONS) if p % 3 in (0, 2)]
    assert taker.take_from_dead() == dict.fromkeys(dead, 2)
    with fresh.connect() as connection:
        kept = next(f"acct_{n}" for n in range(1000) if partition_of(f"acct_{n}", PARTITIONS) % 3 == 1)
        owners["probe-b"].fence.check(connection, [kept])  # its own partitions: still held
        held = dict(connection.execute(text("SELECT partition, owner FROM partition_leases")).all())
    assert held == {p: ("probe-b" if p % 3 == 1 else "probe-d") for p in range(PARTITIONS)}
    assert taker.take_from_dead() == {}  # nobody else is gone
    for leases in (owners["probe-b"], taker):
        leases.release()


def test_a_core_whose_lock_session_was_cut_takes_its_lock_again_at_its_renewal(fresh: Engine) -> None:
    core = _leases(fresh, "core-a")
    assert core.hold_liveness_lock()
    core.claim()
    with fresh.connect() as connection:  # a firewall or idle_session_timeout cuts the lock's session
        pids = connection.execute(
            text(
                "SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).all()
    assert len(pids) == 1
    assert core.renew() == set()  # nobody took them meanwhile; the lock is taken again
    assert _leases(fresh, "core-b").take_from_dead() == {}  # alive again
    core.release()


def test_every_core_of_a_database_must_split_it_alike(fresh: Engine) -> None:
    _leases(fresh, "core-a").claim()
    check_partition_count(fresh, PARTITIONS)
    with pytest.raises(SystemExit):
        check_partition_count(fresh, PARTITIONS * 2)


def _row(transfer_id: str, account_id: str) -> dict[str, object]:
    from core.store.record_rows import transfer_row

    return transfer_row(_transfer(transfer_id, account_id))


def _live_leases(engine: Engine) -> int:
    with engine.connect() as connection:
        query = (
            "SELECT count(*) FROM partition_leases WHERE expires_at_ms >= EXTRACT(EPOCH FROM clock_timestamp()) * 1000"
        )
        return int(connection.execute(text(query)).scalar_one())


def _waiting_on_locks(engine: Engine) -> int:
    with engine.connect() as connection:
        query = "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND datname = current_database()"
        return int(connection.execute(text(query)).scalar_one())


def test_one_read_gives_the_other_holders_and_the_partitions_free_for_their_preferring_core(fresh: Engine) -> None:
    """The death poll's one read (`others`): the other cores holding partitions, and the partitions
    released by a hand-back or a clean stop or never claimed — never this core's own, held or
    released — so a poll claims only what another let go, and probes only the others' locks."""
    a, b = _leases(fresh, "core-a"), _leases(fresh, "core-b")
    try:
        assert a.hold_liveness_lock() and b.hold_liveness_lock()
        assert a.others() == Others([], set())  # nothing claimed: no rows yet
        a.claim([0, 1, 2])
        b.claim([3, 4])
        assert a.others() == Others(["core-b"], set(range(5, PARTITIONS)))  # 5.. never claimed
        a.hand_back([1])
        b.hand_back([4])
        assert a.others() == Others(["core-b"], {4, *range(5, PARTITIONS)})  # not its own 1
        assert b.others() == Others(["core-a"], {1, *range(5, PARTITIONS)})
        b.release()  # a clean stop: its rows stay its, expired now
        found = a.others()  # (core-b's lock free: gone once its session has ended)
        assert (found.owners, found.released) == (["core-b"], {3, 4, *range(5, PARTITIONS)})
        assert a.claim([]) == {}  # nothing wanted: nothing claimed, no epoch moved
        assert {o.partition: o.epoch for o in a.owners() if o.owner == "core-a"} == {0: 1, 1: 1, 2: 1}
    finally:
        gone(fresh, a)
        gone(fresh, b)


def _poll_sessions(engine: Engine) -> set[int]:
    """The idle sessions whose last statement was the death poll's read."""
    with engine.connect() as connection:
        query = (
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() "
            "AND state = 'idle' AND starts_with(query, 'SELECT array_agg(o.owner ORDER BY o.owner)')"
        )
        return set(connection.execute(text(query)).scalars())


def _end_sessions(engine: Engine, pids: set[int]) -> None:
    """Ends sessions server-side: a firewall, `idle_session_timeout` or an administrator cutting them."""
    with engine.connect() as connection:
        ended = connection.execute(
            text("SELECT pg_terminate_backend(pid) FROM unnest(CAST(:pids AS int[])) AS pid"), {"pids": sorted(pids)}
        )
        assert all(ended.scalars())


def test_a_poll_whose_session_was_ended_reads_on_a_new_one_and_takes_a_dead_cores_partitions(fresh: Engine) -> None:
    """The death poll reads on a connection kept for it (no pool checkout, no ping, per poll): its
    session ended server-side, the next poll finds it by its failing read, reads again on a new one
    and goes on — the takeover of a core that died meanwhile is not missed, nor is the poll raising."""
    holder, waiting = _leases(fresh, "cut-a"), _leases(fresh, "cut-b")
    try:
        assert holder.hold_liveness_lock() and waiting.hold_liveness_lock()
        holder.claim()
        before = _poll_sessions(fresh)
        assert waiting.others() == Others(["cut-a"], set())  # the polls' connection, now kept
        kept = _poll_sessions(fresh) - before
        assert len(kept) == 1
        _end_sessions(fresh, kept)
        gone(fresh, holder)  # and the holder dies meanwhile
        before = _poll_sessions(fresh)
        assert waiting.take_from_dead() == {p: 2 for p in range(PARTITIONS)}
        assert waiting.others() == Others([], set())  # the new session is kept in turn
        kept = _poll_sessions(fresh) - before
        assert len(kept) == 1
        _end_sessions(fresh, kept)
        assert waiting.next_lapse_s() is None  # every polled read reconnects alike
    finally:
        holder.drop_liveness_lock()
        waiting.drop_liveness_lock()


def test_the_poll_finds_a_gone_core_in_its_one_read(fresh: Engine) -> None:
    """The death poll's read probes the other owners' liveness locks itself (their keys computed by
    PostgreSQL as `liveness_key` does): a live one is not gone, a dead one is, and nothing stays
    locked by the probe (its successor may take its lock at once)."""
    with fresh.connect() as connection:
        ids = ["core-a", "core-ß-東京", "x" * 200, *(f"k{n}" for n in range(40))]  # signed keys of both signs
        computed = connection.execute(
            text(f"SELECT {KEY_OF_OWNER} FROM unnest(CAST(:ids AS text[])) WITH ORDINALITY AS o(owner, n) ORDER BY n"),
            {"ids": ids, "prefix": LIVENESS_LOCK_PREFIX},
        ).scalars()
        assert list(computed) == [liveness_key(core_id) for core_id in ids]
    holder, waiting = _leases(fresh, "gone-a"), _leases(fresh, "gone-b")
    try:
        assert holder.hold_liveness_lock() and waiting.hold_liveness_lock()
        holder.claim([0, 1])
        assert waiting.others() == Others(["gone-a"], set(range(2, PARTITIONS)), gone=[])
        gone(fresh, holder)
        assert waiting.others() == Others(["gone-a"], set(range(2, PARTITIONS)), gone=["gone-a"])
        successor = _leases(fresh, "gone-a")
        assert successor.hold_liveness_lock()  # the poll's probe kept no lock
        assert waiting.others().gone == []  # alive again
        successor.drop_liveness_lock()
    finally:
        waiting.drop_liveness_lock()
