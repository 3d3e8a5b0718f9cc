"""The rag role's ingest and migration activities built as the rag role builds them (the local
model, an embedded index under `work`, the providers), for tests that drive them against a real
core without a rag role process."""

from __future__ import annotations

import pathlib
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp

from rag.embedder import LocalEmbedder
from rag.index import VectorIndexes, open_indexes
from rag.server import RagServicer
from ringside_server.core_client import CoreClient
from ringside_server.file_store import LocalFileStore
from ringside_server.metering.gateway import Gateway
from ringside_server.providers.configured import models_and_providers
from ringside_server.settings import Settings
from workers.rag_ingest.activities import IngestActivities
from workers.rag_ingest.embedding import IngestEmbedding


@asynccontextmanager
async def ingest_activities(
    core: CoreClient, files: pathlib.Path, work: pathlib.Path
) -> AsyncIterator[tuple[IngestActivities, VectorIndexes]]:
    """(the activities, their index); `files`: the file store's directory (the stack's)."""
    indexes = open_indexes(path=work / "index")
    servicer = RagServicer(LocalEmbedder(threads=1), indexes, "unused")
    settings = Settings()
    session = aiohttp.ClientSession()
    refs, providers = models_and_providers(settings, session, None)  # as the rag role builds them
    embedding = IngestEmbedding(servicer, Gateway(settings=settings, core=core, refs=refs, providers=providers))
    activities = IngestActivities(core, servicer, LocalFileStore(files), work / "parses", embedding)
    try:
        yield activities, indexes
    finally:
        activities.close()
        await session.close()
        servicer.close()
        indexes.close()
