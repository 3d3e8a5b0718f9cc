"""The rag role's sweep: what the core no longer knows goes from the disk and the index.

The core is the only writer of RAG metadata, and deleting a file or store, or erasing a customer,
commits there first; the bytes (file store), the indexes and the cached parses live beside the rag
role. So the rag role, at start and every RINGSIDE_RAG_SWEEP_INTERVAL_S, lists what it holds, asks
the core which of it is still live (`FilesService.LiveRagObjects`, ids only) and removes the rest:
- a file's bytes, once no live file has that id (a stored file younger than
  RINGSIDE_RAG_SWEEP_GRACE_S is left alone: its upload's metadata may still be on its way to the core);
- every index of a store that is no longer live (all its generations);
- in a live store's indexes, the points of a file no longer attached to it (deleted, detached or
  cancelled while the rag role was down, so the edge's removal could not reach it) — asked again
  under the file's fence (rag/fence.py) right before the delete, so an attach made meanwhile, whose
  ingest may be writing, keeps its points;
- a cached parse, once no live file has that content;
- `.partial` files (an upload or a parse cut off) untouched for RINGSIDE_RAG_PARTIAL_UPLOAD_TTL_S.
A missed sweep loses nothing: the next one finds the same leftovers.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import pathlib
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from rag.fence import FileFence
from rag.index import IndexNotFoundError, VectorIndexes, store_of_index
from ringside.core.v1 import files_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.file_store import FileStore, two_levels

log = logging.getLogger("ringside.rag.sweep")
PARTIAL = ".partial"
ASK_AT_ONCE = 1000  # ids per LiveRagObjects list (the core's bound)


@dataclass
class Swept:
    """What one sweep removed (counts; the log carries these, never names)."""

    files: int = 0
    partials: int = 0
    parses: int = 0
    indexes: int = 0
    orphan_files: int = 0  # files whose points were removed from a live store's index
    errors: list[str] = field(default_factory=list)


class Sweeper:
    def __init__(
        self,
        core: CoreClient,
        indexes: VectorIndexes,
        files: FileStore,
        parse_cache: pathlib.Path,
        partial_ttl_s: float,
        grace_s: float,
        clock: Callable[[], float] = time.time,
        fence: FileFence | None = None,
    ) -> None:
        self._core = core
        self._indexes = indexes
        self._files = files
        self._parse_cache = parse_cache
        self._partial_ttl_s = partial_ttl_s
        self._grace_s = grace_s
        self._clock = clock
        self._fence = fence or FileFence()

    async def sweep(self) -> Swept:
        """One pass; blocking disk work runs on a thread."""
        swept = Swept()
        now = self._clock()
        stored = await asyncio.to_thread(self._files.stored, now, self._grace_s, self._partial_ttl_s)
        swept.partials = stored.partials_removed
        parses, partial_parses = await asyncio.to_thread(self._listed, self._parse_cache, now, 0)
        swept.partials += partial_parses
        stores = await asyncio.to_thread(self._stores_indexed)
        for batch in _batches(sorted(stored.file_ids)):
            live = set((await self._ask(file_ids=batch)).file_ids)
            swept.files += await asyncio.to_thread(self._files.remove, [i for i in batch if i not in live])
        by_content: dict[str, list[pathlib.Path]] = {}
        for path in parses.values():
            by_content.setdefault(path.name[:64], []).append(path)
        for batch in _batches(sorted(by_content)):
            live = set((await self._ask(sha256s=batch)).sha256s)
            gone = [path for digest in batch if digest not in live for path in by_content[digest]]
            swept.parses += await asyncio.to_thread(_unlink, gone)
        live_stores: list[str] = []
        for batch in _batches(sorted(stores)):
            live = set((await self._ask(store_ids=batch)).store_ids)
            live_stores += [s for s in batch if s in live]
            for store_id in (s for s in batch if s not in live):
                for name in stores[store_id]:
                    with contextlib.suppress(IndexNotFoundError):
                        await asyncio.to_thread(self._indexes.drop, name)
                    swept.indexes += 1
        for store_id in live_stores:
            swept.orphan_files += await self._orphans(store_id, stores[store_id])
        return swept

    async def _orphans(self, store_id: str, names: list[str]) -> int:
        """Removes, from the store's indexes, the points of files the core says are not attached."""
        removed = 0
        for name in names:
            try:
                indexed = await asyncio.to_thread(self._indexes.file_ids, name)
            except IndexNotFoundError:
                continue
            for batch in _batches(indexed):
                pairs = [files_pb2.StoreFilePair(store_id=store_id, file_id=f) for f in batch]
                live = {pair.file_id for pair in (await self._ask(attachments=pairs)).attachments}
                for file_id in (f for f in batch if f not in live):
                    removed += await self._remove_orphan(name, store_id, file_id)
        return removed

    async def _remove_orphan(self, name: str, store_id: str, file_id: str) -> int:
        """Deletes the file's points unless it is attached by now (asked under its fence: an ingest's
        writes of the file wait until the delete is done). → 1 if deleted."""
        with self._fence.holding(name, file_id):
            pair = files_pb2.StoreFilePair(store_id=store_id, file_id=file_id)
            if (await self._ask(attachments=[pair])).attachments:
                return 0  # attached again meanwhile: its ingest's points stay
            with contextlib.suppress(IndexNotFoundError):
                await asyncio.to_thread(self._indexes.delete_file, name, file_id)
        return 1

    async def _ask(
        self,
        file_ids: list[str] | None = None,
        store_ids: list[str] | None = None,
        sha256s: list[str] | None = None,
        attachments: list[files_pb2.StoreFilePair] | None = None,
    ) -> files_pb2.LiveRagObjectsResponse:
        request = files_pb2.LiveRagObjectsRequest(
            file_ids=file_ids or [], store_ids=store_ids or [], sha256s=sha256s or [], attachments=attachments or []
        )
        return await self._core.internal(self._core.files.LiveRagObjects, request)

    def _listed(self, root: pathlib.Path, now: float, grace_s: float) -> tuple[dict[str, pathlib.Path], int]:
        """The files under `root/<xx>/` by name (older than `grace_s`), after removing the stale
        `.partial` ones. → (files by name, partials removed)."""
        found: dict[str, pathlib.Path] = {}
        stale: list[pathlib.Path] = []
        for path in two_levels(root):
            with contextlib.suppress(FileNotFoundError):
                age = now - path.stat().st_mtime
                if path.name.endswith(PARTIAL):
                    if age > self._partial_ttl_s:
                        stale.append(path)
                elif age >= grace_s:
                    found[path.name] = path
        return found, _unlink(stale)

    def _stores_indexed(self) -> dict[str, list[str]]:
        """Index names by their store id."""
        stores: dict[str, list[str]] = {}
        for name in self._indexes.names():
            store_id = store_of_index(name)
            if store_id is not None:
                stores.setdefault(store_id, []).append(name)
        return stores

    async def run(self, interval_s: float) -> None:
        """Sweeps at once, then every `interval_s`, until cancelled."""
        while True:
            try:
                swept = await self.sweep()
                if swept.files or swept.partials or swept.parses or swept.indexes or swept.orphan_files:
                    log.info(
                        "rag sweep removed %d files, %d partial files, %d cached parses, %d indexes, "
                        "the points of %d detached files",
                        swept.files,
                        swept.partials,
                        swept.parses,
                        swept.indexes,
                        swept.orphan_files,
                    )
            except RingsideError as error:
                log.warning("rag sweep: the core did not answer (%s); next sweep in %.0f s", error.code, interval_s)
            except OSError as error:
                log.warning("rag sweep: %s; next sweep in %.0f s", type(error).__name__, interval_s)
            await asyncio.sleep(interval_s)


def _unlink(paths: list[pathlib.Path]) -> int:
    removed = 0
    for path in paths:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed += 1
    return removed


def _batches(ids: list[str]) -> Iterator[list[str]]:
    for start in range(0, len(ids), ASK_AT_ONCE):
        yield ids[start : start + ASK_AT_ONCE]
