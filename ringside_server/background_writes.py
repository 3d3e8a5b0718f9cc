"""Writes a role sends off the response path (a vector store search's query log entry): the answer
does not wait on the core's group commit, and a read of what they write drains them first."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable

MAX_IN_FLIGHT = 256  # beyond this a new write waits for room (backpressure: none is dropped)


class BackgroundWrites:
    """Tasks in flight, bounded; `drain()` awaits every one started before it."""

    def __init__(self, limit: int = MAX_IN_FLIGHT) -> None:
        self._room = asyncio.Semaphore(limit)
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self, write: Awaitable[None]) -> None:
        """Runs `write` (which handles its own errors) in the background once there is room."""
        await self._room.acquire()
        task = asyncio.get_running_loop().create_task(self._run(write))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _run(self, write: Awaitable[None]) -> None:
        try:
            await write
        finally:
            self._room.release()

    async def drain(self) -> None:
        """Returns once every write started so far has ended."""
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def __len__(self) -> int:
        return len(self._tasks)
