"""The index rebuilt after a restore (issue 27): a backup holds the rag role's cached parses, not its
index, and `ringside restore` leaves a marker (REBUILD_MARKER) in the parse cache. At its next start
the rag role asks the core for every live store's completed files (`IndexedStores`) and embeds each
one's chunks into the store's live generation from its cached parse — through the migration's
re-embedding path (workers/rag_ingest/reembed.py: the same chunks, point ids and resumption), but
unbilled: no hold, no usage row, no ledger entry; the rebuild restores what was already paid for.

A document whose parse is not in the cache is parsed again (locally, not billed either). An image
or audio file whose reading is not in the cache is not rebuilt (reading it again is a paid model
call): it is logged and stays unsearchable until attached again. The marker goes once every store
is done; a rag role stopped meanwhile starts over, skipping the chunks already in the index.
"""

from __future__ import annotations

import asyncio
import json
import logging
import pathlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from rag.errors import IngestError
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.rag_ingest.reembed import Reembedder, Target

log = logging.getLogger("ringside.rag.rebuild")
RETRY_S = 5.0  # the core not answering yet: asked again after this


@dataclass
class Rebuilt:
    """What one rebuild did (counts; the log carries these, never names)."""

    stores: int = 0
    files: int = 0
    chunks: int = 0  # embedded by the rebuild (chunks already in the index are not)
    skipped: int = 0  # files left out: their model gone from the catalog, or their text not at hand


class Rebuilder:
    def __init__(
        self,
        core: CoreClient,
        reembedder: Reembedder,
        text_of: Callable[[str, str, str], Awaitable[str]],
        marker: pathlib.Path,
    ) -> None:
        self._core = core
        self._reembedder = reembedder
        self._text_of = text_of  # (file id, filename, sha256) → the cached parse (parsed again if lost)
        self._marker = marker

    async def run(self) -> Rebuilt | None:
        """Rebuilds once if a restore asked for it (None when it did not), retrying while the core
        does not answer."""
        if not self._marker.exists():
            return None
        while True:
            try:
                rebuilt = await self.rebuild()
                break
            except RingsideError as error:
                log.info("index rebuild waits for the core (%s)", error.code)
                await asyncio.sleep(RETRY_S)
        self._marker.unlink(missing_ok=True)
        log.info(
            "index rebuilt after a restore: %d stores, %d files, %d chunks embedded (unbilled), %d files skipped",
            rebuilt.stores,
            rebuilt.files,
            rebuilt.chunks,
            rebuilt.skipped,
        )
        return rebuilt

    async def rebuild(self) -> Rebuilt:
        rebuilt = Rebuilt()
        after = ""
        while True:
            page = await self._core.internal(
                self._core.vector_stores.IndexedStores, pb.IndexedStoresRequest(after=after)
            )
            for indexed in page.stores:
                await self._store(indexed, rebuilt)
            if not page.has_more or not page.stores:
                return rebuilt
            after = page.stores[-1].store.id

    async def _store(self, indexed: pb.IndexedStore, rebuilt: Rebuilt) -> None:
        store = indexed.store
        rebuilt.stores += 1
        target = Target(store.id, store.generation, store.embedding_model, store.livemode, "", store.customer_id)
        try:
            model = self._reembedder.model(store.embedding_model)
        except IngestError:
            log.warning("store %s: %s is not in the catalog; its index is not rebuilt", store.id, store.embedding_model)
            rebuilt.skipped += len(indexed.files)
            return
        for file in indexed.files:
            try:
                text = await self._text_of(file.file_id, file.filename, file.sha256)
                chunks, _ = self._reembedder.chunks(text, file.chunking_json, model)
                done = await self._reembedder.embed_file(
                    target,
                    file.file_id,
                    file.filename,
                    chunks,
                    json.loads(file.attributes_json or "{}"),
                    file.attributes_version,
                    billed=False,
                )
            except (IngestError, OSError) as error:
                log.warning("file %s of store %s: not rebuilt (%s)", file.file_id, store.id, type(error).__name__)
                rebuilt.skipped += 1
                continue
            rebuilt.files += 1
            rebuilt.chunks += done.embedded
