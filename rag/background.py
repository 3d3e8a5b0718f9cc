"""The rag role's background tasks beside its gRPC service (rag/server.py starts them): its
heartbeat to the core, the ingest workflows' worker and starters on its Temporal task queue, and
the sweep of what the core no longer knows."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from typing import TYPE_CHECKING

import aiohttp

from rag.fence import FileFence
from rag.index import VectorIndexes
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.settings import REBUILD_MARKER, Settings

if TYPE_CHECKING:
    from rag.server import RagOptions, RagServicer

log = logging.getLogger("ringside.rag")
HEARTBEAT_EVERY_S = 2.0
TEMPORAL_RETRY_S = 1.0
INGEST_CONCURRENCY = 4  # activities at once: they share one embedding thread and one parse thread


async def heartbeat(options: RagOptions) -> None:
    """Reports ready to the core (as the worker does) once the model is loaded and the port bound."""
    assert options.core_address is not None
    core = CoreClient(options.core_address, options.internal_token)
    instance = f"{socket.gethostname()}:{os.getpid()}"
    try:
        while True:
            with contextlib.suppress(RingsideError):
                await core.heartbeat("rag", instance)
            await asyncio.sleep(HEARTBEAT_EVERY_S)
    finally:
        await core.close()


async def ingest(options: RagOptions, servicer: RagServicer) -> None:
    """The ingest workflows' worker and starter (workers/rag_ingest), once Temporal answers."""
    from temporalio.worker import Worker

    from ringside_server.metering.gateway import Gateway
    from ringside_server.providers.configured import models_and_providers
    from workers.rag_ingest.activities import IngestActivities
    from workers.rag_ingest.embedding import IngestEmbedding
    from workers.rag_ingest.migration_starter import MigrationStarter
    from workers.rag_ingest.shared import TASK_QUEUE
    from workers.rag_ingest.starter import IngestStarter
    from workers.rag_ingest.workflows import WORKFLOWS
    from workers.webhooks.search import ensure_customer_attribute

    temporal = options.temporal
    assert options.core_address and temporal and options.files and options.parse_cache
    while True:
        try:
            client = await temporal.connect()
            break
        except RuntimeError as error:
            log.info("ingest waits for Temporal at %s (%s)", temporal.address, error)
            await asyncio.sleep(TEMPORAL_RETRY_S)
    core = CoreClient(options.core_address, options.internal_token)
    settings = options.settings or Settings()
    session = aiohttp.ClientSession()
    refs, providers = models_and_providers(settings, session, None)  # the local model is this process's
    gateway = Gateway(settings=settings, core=core, refs=refs, providers=providers)
    embedding = IngestEmbedding(servicer, gateway)
    activities = IngestActivities(
        core,
        servicer,
        options.files,
        options.parse_cache,
        embedding,
        options.vision_model,
        options.transcription_model,
    )
    worker = Worker(
        client,
        task_queue=TASK_QUEUE,
        workflows=WORKFLOWS,
        activities=activities.all_activities(),
        max_concurrent_activities=INGEST_CONCURRENCY,
    )
    try:
        async with worker:
            searchable = await ensure_customer_attribute(client, temporal.namespace)
            log.info("rag ingest polling task queue %r on %s", TASK_QUEUE, temporal.address)
            await asyncio.gather(
                IngestStarter(core, client, searchable).run(),
                MigrationStarter(core, client, searchable).run(),
                activities.rebuilder(options.parse_cache / REBUILD_MARKER).run(),  # after a restore
            )
    finally:
        activities.close()
        await session.close()
        await core.close()


async def sweep(options: RagOptions, indexes: VectorIndexes, fence: FileFence) -> None:
    """Removes the bytes, indexes and cached parses the core no longer knows (workers/rag_ingest/sweep.py)."""
    from workers.rag_ingest.sweep import Sweeper

    assert options.core_address and options.files and options.parse_cache
    core = CoreClient(options.core_address, options.internal_token)
    try:
        sweeper = Sweeper(
            core,
            indexes,
            options.files,
            options.parse_cache,
            options.partial_upload_ttl_s,
            options.sweep_grace_s,
            fence=fence,
        )
        await sweeper.run(options.sweep_interval_s)
    finally:
        await core.close()
