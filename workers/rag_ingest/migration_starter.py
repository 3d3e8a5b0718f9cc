"""Starts the migration workflows, in the rag role, as IngestStarter starts ingests: it asks the
core for migrations in progress and starts one workflow each, with a deterministic id, so a restart
of the rag role (or two of them) starts each migration once."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.rag_ingest.migration import MigrateStoreWorkflow, MigrationInput, migration_workflow_id
from workers.rag_ingest.shared import TASK_QUEUE
from workers.webhooks.search import customer_attributes

log = logging.getLogger("ringside.rag.migrate")
CLAIM_LIMIT = 100
POLL_EVERY_S = 0.5


class MigrationStarter:
    def __init__(self, core: CoreClient, client: Client, search_attributes: bool) -> None:
        self._core = core
        self._client = client
        self._search_attributes = search_attributes
        self._started: set[str] = set()

    async def _start(self, migration: pb.Migration) -> str:
        owner = migration.customer_id or migration.account_id
        workflow = migration_workflow_id(owner, migration.store_id, migration.id)
        if workflow in self._started:
            return workflow
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                MigrateStoreWorkflow.run,
                MigrationInput(migration.id),
                id=workflow,
                task_queue=TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                memo={"customer_id": migration.customer_id, "store_id": migration.store_id},
                search_attributes=customer_attributes(migration.customer_id) if self._search_attributes else None,
            )
        return workflow

    async def start_pending(self) -> int:
        answer = await self._core.internal(
            self._core.vector_stores.PendingMigrations, pb.PendingMigrationsRequest(limit=CLAIM_LIMIT)
        )
        ids = await asyncio.gather(*(self._start(migration) for migration in answer.migrations))
        self._started = set(ids)
        return len(ids)

    async def run(self) -> None:
        while True:
            try:
                await self.start_pending()
            except (RingsideError, RPCError) as error:
                log.warning("migration starter: %s; retrying", error)
            await asyncio.sleep(POLL_EVERY_S)
