"""Group commit: every write that arrives while the previous commit runs shares the next one.

Callers await `write(records)`; it returns once their records are durable (committed), or raises
the database's error for their records alone: when a shared commit fails, its units are retried
one by one so one bad write cannot fail its neighbours.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from sqlalchemy import Engine

from core.store.records import grouped_statements

log = logging.getLogger(__name__)


@dataclass(slots=True)
class _Unit:
    records: list[object]
    done: asyncio.Future[None]


class GroupCommitWriter:
    def __init__(self, engine: Engine, batch_max: int = 2000, linger_ms: float = 0.0, queue_max: int = 100_000) -> None:
        self._engine = engine
        self._batch_max = batch_max
        self._linger_s = linger_ms / 1000
        # Bounded: when the database falls behind, writers wait here instead of growing memory.
        self._queue: asyncio.Queue[_Unit] = asyncio.Queue(maxsize=queue_max)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ringside-writer")
        self._task: asyncio.Task[None] | None = None
        self.commits = 0
        self.units = 0
        # record type → an event set after every commit that persisted one (see `notify`).
        self._watchers: dict[type, asyncio.Event] = {}

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    def notify(self, record_type: type, event: asyncio.Event) -> None:
        """Set `event` once a record of `record_type` is durable (the outbox relay waits on it)."""
        self._watchers[record_type] = event

    def _committed(self, units: list[_Unit]) -> None:
        for unit in units:
            if not unit.done.done():
                unit.done.set_result(None)
        if self._watchers:
            for record in (record for unit in units for record in unit.records):
                watcher = self._watchers.get(type(record))
                if watcher is not None:
                    watcher.set()

    async def write(self, records: list[object]) -> None:
        """Persist `records` in one transaction shared with concurrent writers; wait until durable."""
        unit = _Unit(records, asyncio.get_running_loop().create_future())
        await self._queue.put(unit)
        await unit.done

    async def close(self) -> None:
        """Flush everything queued, then stop."""
        if self._task is not None:
            await self._queue.join()
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._executor.shutdown(wait=True)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [await self._queue.get()]
            if self._linger_s:
                await asyncio.sleep(self._linger_s)
            while len(batch) < self._batch_max and not self._queue.empty():
                batch.append(self._queue.get_nowait())
            try:
                await loop.run_in_executor(self._executor, self._commit, batch)
                self._committed(batch)
            except Exception:
                log.warning("group commit of %d units failed; retrying them one by one", len(batch))
                for unit in batch:
                    try:
                        await loop.run_in_executor(self._executor, self._commit, [unit])
                        self._committed([unit])
                    except Exception as error:
                        if not unit.done.done():
                            unit.done.set_exception(error)
            finally:
                for _ in batch:
                    self._queue.task_done()

    def _commit(self, batch: list[_Unit]) -> None:
        statements = grouped_statements(record for unit in batch for record in unit.records)
        with self._engine.begin() as connection:
            for statement, rows in statements:
                connection.execute(statement, rows)
        self.commits += 1
        self.units += len(batch)
