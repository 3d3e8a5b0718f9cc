"""The rag role's ingest and migration activities built as the rag role builds them (the local
model, an embedded index under `work`, the providers), for tests that drive them against a real
core without a rag role process."""

from __future__ import annotations

import pathlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiohttp
from temporalio.client import Client

from rag.embedder import LocalEmbedder
from rag.index import VectorIndexes, open_indexes
from rag.server import RagServicer
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.file_store import LocalFileStore
from ringside_server.metering.gateway import Gateway
from ringside_server.providers.configured import models_and_providers
from ringside_server.settings import Settings
from workers.rag_ingest.activities import IngestActivities
from workers.rag_ingest.embedding import IngestEmbedding
from workers.rag_ingest.shared import IngestInput, IngestOutcome
from workers.rag_ingest.workflows import IngestFileWorkflow


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


async def ingest_pending(core: CoreClient, client: Client, queue: str, file_id: str) -> IngestOutcome:
    """Runs the ingest workflow of the pending ingest of `file_id` on `queue` (a worker of these
    activities serves it): its outcome."""
    pending = await core.internal(core.vector_stores.PendingIngests, pb.PendingIngestsRequest(limit=100))
    (ingest,) = [found for found in pending.ingests if found.file_id == file_id]
    outcome: IngestOutcome = await client.execute_workflow(
        IngestFileWorkflow.run,
        IngestInput(ingest.store_id, ingest.file_id, ingest.attach_id),
        id=f"ingest-{uuid.uuid4()}",
        task_queue=queue,
    )
    return outcome
