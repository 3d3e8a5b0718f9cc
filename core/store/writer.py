"""Group commit: every write that arrives while the previous commit runs shares the next one.

Callers await `write(records)`; it returns once their records are durable (committed), or raises
the database's error for their records alone: when a shared commit fails, its units are retried
one by one so one bad write cannot fail its neighbours.

"Write, then change memory" is `write_then_apply(records, apply, undo)`: the writer itself runs
`apply` right after the commit that made the records durable (or `undo` once they cannot land), in
its own task. A caller cancelled while it waits (a deadline, a client gone) therefore can never
leave the database ahead of memory, and memory changes in the order the commits landed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields, is_dataclass
from itertools import chain
from typing import Any, TypeVar, cast

from sqlalchemy import Engine

from core.domain.entities import Account, Transfer
from core.store import ledger_totals, usage_daily
from core.store.driver_sql import execute_many
from core.store.partition_fence import Fence
from core.store.records import grouped_statements

log = logging.getLogger(__name__)

T = TypeVar("T")


def _nothing() -> None:
    return None


@dataclass(slots=True)
class _Unit:
    records: list[object]
    # Resolved with what `apply` returned, or with the error that kept the records from landing.
    done: asyncio.Future[Any]
    apply: Callable[[], Any]
    undo: Callable[[BaseException], None] | None
    # Accounts whose partitions the commit must still hold beyond those its records name (a hold's
    # extension names only the hold).
    accounts: tuple[str, ...] = ()


class GroupCommitWriter:
    def __init__(
        self,
        engine: Engine,
        batch_max: int = 2000,
        linger_ms: float = 0.0,
        queue_max: int = 100_000,
        fence: Fence | None = None,
    ) -> None:
        self._engine = engine
        # PostgreSQL: the partitions this core holds, checked inside every commit (partition_leases.py)
        self.fence = fence
        self._batch_max = batch_max
        self._linger_s = linger_ms / 1000
        # Units waiting for the next commit. A deque and the futures below rather than an
        # asyncio.Queue: its put, get and task_done in Python were ~1.8 µs of the event loop a unit.
        self._queue: deque[_Unit] = deque()
        # Bounded: when the database falls behind, writers wait for room instead of growing memory.
        self._queue_max = queue_max
        self._room: list[asyncio.Future[None]] = []  # writers waiting for room, woken after each take
        self._arrived: asyncio.Future[None] | None = None  # the writer's task waits on it when idle
        self._committing = 0  # units taken and not yet committed (or failed): `close` waits for them
        self._drained: asyncio.Future[None] | None = None  # `close` waits on it
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ringside-writer")
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        self.units = 0
        # Told (units, seconds) after every shared commit, and (units, -1) after one that failed.
        self.on_commit: Callable[[int, float], None] | None = None
        # record type → an event set after every commit that persisted one (see `notify`).
        self._watchers: dict[type, asyncio.Event] = {}
        # Run once everything queued is flushed: the partition leases' renewal stops with the writes it fences.
        self.on_close: list[Callable[[], object]] = []

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    def notify(self, record_type: type, event: asyncio.Event) -> None:
        """Set `event` once a record of `record_type` is durable (the outbox relay waits on it)."""
        self._watchers[record_type] = event

    def _committed(self, units: list[_Unit]) -> None:
        for unit in units:
            try:
                result = unit.apply()
            except Exception as error:
                log.exception("applying a durable write to memory failed")
                _resolve(unit.done, error=error)
            else:
                _resolve(unit.done, result=result)
        if self._watchers:
            # the types written, found in C (map, set): a Python loop over every record was a few
            # percent of the event loop's work a settle
            written = set(map(type, chain.from_iterable(unit.records for unit in units)))
            for record_type in written & self._watchers.keys():
                self._watchers[record_type].set()

    def _failed(self, unit: _Unit, error: BaseException) -> None:
        if unit.undo is not None:
            try:
                unit.undo(error)
            except Exception:
                log.exception("undoing a failed write in memory failed")
        _resolve(unit.done, error=error)

    async def write(self, records: list[object], accounts: tuple[str, ...] = ()) -> None:
        """Persist `records` in one transaction shared with concurrent writers; wait until durable.
        `accounts`: more accounts whose partitions the commit is fenced on (see `_Unit.accounts`)."""
        await self.write_then_apply(records, _nothing, accounts=accounts)

    async def write_then_apply(
        self,
        records: list[object],
        apply: Callable[[], T],
        undo: Callable[[BaseException], None] | None = None,
        accounts: tuple[str, ...] = (),
    ) -> T:
        """Persist `records` (shared commit), then bring memory in step: `apply()` runs in the
        writer's task right after the commit, whether or not this caller still waits, and its
        result is returned. If the records cannot land, `undo()` (memory claimed before the write)
        runs instead, given the error, which is then raised."""
        loop = asyncio.get_running_loop()
        unit = _Unit(records, loop.create_future(), apply, undo, accounts)
        queue = self._queue
        while len(queue) >= self._queue_max:
            room = loop.create_future()
            self._room.append(room)
            try:
                await room
            except asyncio.CancelledError as cancelled:
                if undo is not None:
                    undo(cancelled)  # never queued: nothing will land
                raise
        queue.append(unit)
        arrived = self._arrived
        if arrived is not None and not arrived.done():
            arrived.set_result(None)
        # Not shielded: a cancelled caller cancels `done` itself, and the writer, which only
        # resolves a future not yet done, still commits and applies the unit; its outcome is
        # nobody's to read now. (A shield per unit was a tenth of the event loop's work per write.)
        return cast(T, await unit.done)

    async def close(self) -> None:
        """Flush everything queued, then stop."""
        if self._task is not None:
            while self._queue or self._committing:
                self._drained = asyncio.get_running_loop().create_future()
                await self._drained
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)
        for closed in self.on_close:
            closed()

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        while True:
            if not queue:
                self._arrived = loop.create_future()
                await self._arrived
            if self._linger_s:
                await asyncio.sleep(self._linger_s)
            batch = [queue.popleft() for _ in range(min(len(queue), self._batch_max))]
            self._committing = len(batch)
            self._make_room()
            started = time.perf_counter()
            try:
                await loop.run_in_executor(self._executor, self._commit, batch)
            except Exception:
                if self.on_commit is not None:
                    self.on_commit(len(batch), -1.0)
                log.warning("group commit of %d units failed; retrying them one by one", len(batch))
                for unit in batch:
                    try:
                        await loop.run_in_executor(self._executor, self._commit, [unit])
                    except Exception as error:
                        self._failed(unit, error)
                    else:
                        self._committed([unit])
            else:
                if self.on_commit is not None:
                    self.on_commit(len(batch), time.perf_counter() - started)
                self._committed(batch)
            finally:
                self._committing = 0
                drained = self._drained
                if not queue and drained is not None and not drained.done():
                    drained.set_result(None)

    def _make_room(self) -> None:
        """Wake the writers waiting for room in the queue (each checks again: the first come fill it)."""
        waiting, self._room = self._room, []
        for room in waiting:
            if not room.done():
                room.set_result(None)

    def _commit(self, batch: list[_Unit]) -> None:
        records = [record for unit in batch for record in unit.records]
        statements = grouped_statements(records)
        with self._engine.begin() as connection:
            if self.fence is not None:  # first: a stale owner's commit writes nothing at all
                accounts, system = _fenced_on(batch)
                self.fence.check(connection, accounts, system=system)
            # Read before the statements run: a correction replaces a record whose sums it takes away.
            usage_moved = usage_daily.deltas(connection, records)
            for statement, rows in statements:
                execute_many(connection, statement, rows)
            # The running totals move in the same transaction as the transfers and records they sum.
            ledger_totals.add(connection, (record for record in records if type(record) is Transfer))
            usage_daily.add(connection, usage_moved)
        self.commits += 1
        self.units += len(batch)


def _account_of(record: object) -> str | None:
    """The account a record is written for: its own `account_id` (every ledger write), else that of
    the one object it rewrites whole (`BatchUpdate.batch`, `CustomerUpdate.customer`,
    `VectorStoreFileUpdate.row`, an `AccountUpdate`'s account…), so that such a write is fenced on
    its account's partition and a core serving that account but not the system partition may make it."""
    found = getattr(record, "account_id", None)
    if found is None and (wrapped := _wrapped_field(type(record))) is not None:
        inner = getattr(record, wrapped)
        found = inner.id if isinstance(inner, Account) else getattr(inner, "account_id", None)
    return found if isinstance(found, str) and found else None


# record type → the one field of a dataclass that has only one, or None (`_wrapped_field`)
_wrapped: dict[type, str | None] = {}


def _wrapped_field(record_type: type) -> str | None:
    """The one field of a dataclass that has only one (the object it rewrites whole), else None.
    Kept per type (record types are classes of the code: a few dozen): `dataclasses.fields` per
    record was a tenth of PostgreSQL's writer thread."""
    if record_type not in _wrapped:
        found = fields(record_type) if is_dataclass(record_type) else ()
        _wrapped[record_type] = found[0].name if len(found) == 1 else None
    return _wrapped[record_type]


def _fenced_on(units: list[_Unit]) -> tuple[set[str], bool]:
    """The accounts a commit writes for (every ledger write — holds, transfers, usage — names its
    own), and whether a unit of it belongs to no account (an outbox relay, a delivery attempt, the
    retention purges): the commit is then fenced on the system partition as well. A unit that names
    an account (an event with its outbox entry) is that account's partition's to write. One pass
    over the records."""
    accounts: set[str | None] = set()
    system = False
    for unit in units:
        named = set(map(_account_of, unit.records))
        named.discard(None)
        if not named and not unit.accounts:
            system = True
        accounts |= named
        accounts.update(unit.accounts)
    accounts.discard("")
    return cast(set[str], accounts), system


def _resolve(done: asyncio.Future[Any], result: object = None, error: BaseException | None = None) -> None:
    if done.done():
        return
    if error is not None:
        done.set_exception(error)
    else:
        done.set_result(result)
