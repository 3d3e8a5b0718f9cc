"""Starts the migration workflows, in the rag role, as IngestStarter starts ingests: it asks the
core for migrations in progress and starts one workflow each, with a deterministic id, so a restart
of the rag role (or two of them) starts each migration once."""

from __future__ import annotations

import asyncio
import contextlib

from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from ringside.core.v1 import vector_stores_pb2 as pb
from workers.rag_ingest.migration import MigrateStoreWorkflow, MigrationInput, migration_workflow_id
from workers.rag_ingest.shared import TASK_QUEUE
from workers.rag_ingest.starter import IngestStarter
from workers.webhooks.search import customer_attributes

CLAIM_LIMIT = 100


class MigrationStarter(IngestStarter):
    """IngestStarter's poll (its run loop), over the migrations in progress."""

    what = "migration"

    async def _start_migration(self, migration: pb.Migration) -> str:
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
        ids = await asyncio.gather(*(self._start_migration(migration) for migration in answer.migrations))
        self._started = set(ids)
        return len(ids)
