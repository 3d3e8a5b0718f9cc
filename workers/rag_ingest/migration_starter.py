"""Starts the migration workflows, in the rag role, as IngestStarter starts ingests
(workers/pending_starter.py): one per migration the core says is in progress, with a deterministic
id, so a restart of the rag role (or two of them) starts each migration once."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from temporalio.client import Client

from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from workers.pending_starter import PendingStarter, Start
from workers.rag_ingest.migration import MigrateStoreWorkflow, MigrationInput, migration_workflow_id
from workers.rag_ingest.shared import TASK_QUEUE

log = logging.getLogger("ringside.rag.migration")
CLAIM_LIMIT = 100


class MigrationStarter(PendingStarter[pb.Migration]):
    def __init__(self, core: CoreClient, client: Client, search_attributes: bool) -> None:
        super().__init__(client, search_attributes, log)
        self._core = core

    async def pending(self) -> Sequence[pb.Migration]:
        request = pb.PendingMigrationsRequest(limit=CLAIM_LIMIT)
        return (await self._core.internal(self._core.vector_stores.PendingMigrations, request)).migrations

    def start_of(self, migration: pb.Migration) -> Start:
        owner = migration.customer_id or migration.account_id
        return Start(
            MigrateStoreWorkflow.run,
            MigrationInput(migration.id),
            migration_workflow_id(owner, migration.store_id, migration.id),
            TASK_QUEUE,
            migration.customer_id,
            {"customer_id": migration.customer_id, "store_id": migration.store_id},
        )
