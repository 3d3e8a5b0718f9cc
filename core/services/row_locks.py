"""Locks per row key for read-modify-writes of rows kept in memory (issue 16: a store file's).

The core reads a row from memory, builds its new version and queues the write; memory changes when
the write is applied, after its commit. Two read-modify-writes of one row whose reads both come
before the first's apply each write a version built from the old row, and the later write undoes
the earlier one — an attribute update lost under an ingest's finish, a status written back. Holding
the row's lock from the read until the write is applied makes the second read see the first's
result. Entries live only while held or awaited (the map stays as small as the work in flight).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Hashable, Iterable


class RowLocks:
    """An asyncio lock per key, made on first use and dropped when nobody holds or awaits it."""

    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def holding(self, keys: Iterable[Hashable]) -> AsyncIterator[None]:
        """Holds every key's lock (taken in sorted order, so two callers never deadlock)."""
        counted: list[Hashable] = []  # keys this caller holds or awaits
        acquired: list[asyncio.Lock] = []
        try:
            for key in sorted(set(keys), key=repr):
                lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
                self._locks[key] = (lock, users + 1)
                counted.append(key)
                await lock.acquire()
                acquired.append(lock)
            yield
        finally:
            for lock in reversed(acquired):
                lock.release()
            for key in counted:
                lock, users = self._locks[key]
                if users == 1:
                    del self._locks[key]
                else:
                    self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
