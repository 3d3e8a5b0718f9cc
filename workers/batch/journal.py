"""A batch's journal: one JSON record a line, appended and synced before the run goes on —
`{"n", "admitted": req_…}` once a line's hold is durable (before anything goes upstream), and
`{"n", "file": "output"|"error", "line": …}` once its result is known. A retry of the run (a worker
killed mid-batch) reads it back: lines with a result are not run again, and a line admitted without
one is settled once (workers/batch/activities.py). A batch forwarded to a provider's batch API has
one `{"upstream": {provider, batch_id, file_id, models}}` record once the provider has it
(workers/batch/forward.py). The files are written from it at the end."""

from __future__ import annotations

import asyncio
import contextlib
import os
import pathlib
from dataclasses import dataclass, field
from typing import Any

import orjson

RESULT_FILES = ("output", "error")


@dataclass(slots=True)
class Journal:
    path: pathlib.Path
    results: dict[int, tuple[str, bytes]] = field(default_factory=dict)  # line number → (file, its line)
    # line number → (request id, custom_id): admitted, no result yet
    admitted: dict[int, tuple[str, str]] = field(default_factory=dict)
    upstream: dict[str, Any] | None = None  # the provider's batch, when forwarded
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    @classmethod
    def open(cls, path: pathlib.Path) -> Journal:
        """What an earlier attempt wrote (a torn last record, cut by a crash, is skipped). Blocking."""
        journal = cls(path)
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        with contextlib.suppress(FileNotFoundError), path.open("rb") as handle:
            for raw in handle:
                try:
                    record = orjson.loads(raw)
                except orjson.JSONDecodeError:
                    continue
                if isinstance(record, dict) and isinstance(record.get("upstream"), dict):
                    journal.upstream = record["upstream"]
                    continue
                number = record.get("n") if isinstance(record, dict) else None
                if not isinstance(number, int):
                    continue
                if record.get("file") in RESULT_FILES and isinstance(record.get("line"), str):
                    journal.results[number] = (record["file"], record["line"].encode())
                    journal.admitted.pop(number, None)
                elif isinstance(record.get("admitted"), str) and number not in journal.results:
                    journal.admitted[number] = (record["admitted"], str(record.get("custom_id", "")))
        return journal

    def count(self, file: str) -> int:
        return sum(1 for kind, _ in self.results.values() if kind == file)

    async def _append(self, record: dict[str, object]) -> None:
        data = orjson.dumps(record) + b"\n"
        async with self._lock:
            await asyncio.to_thread(self._write, data)

    def _write(self, data: bytes) -> None:
        with self.path.open("ab") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())

    async def admit(self, number: int, request_id: str, custom_id: str) -> None:
        await self._append({"n": number, "admitted": request_id, "custom_id": custom_id})
        self.admitted[number] = (request_id, custom_id)

    async def forwarded(self, upstream: dict[str, Any]) -> None:
        await self._append({"upstream": upstream})
        self.upstream = upstream

    async def result(self, number: int, file: str, line: bytes) -> None:
        await self._append({"n": number, "file": file, "line": line.decode()})
        self.results[number] = (file, line)
        self.admitted.pop(number, None)

    def lines_of(self, file: str) -> list[bytes]:
        """The file's lines, in the input's order."""
        return [line for _, (kind, line) in sorted(self.results.items()) if kind == file]
