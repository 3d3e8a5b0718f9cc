"""Starts the ingest workflows, in the rag role (workers/pending_starter.py): one per attachment the
core says is still `in_progress`."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from temporalio.client import Client

from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from workers.pending_starter import CLAIM_LIMIT, PendingStarter, Start
from workers.rag_ingest.shared import TASK_QUEUE, IngestInput, workflow_id
from workers.rag_ingest.workflows import IngestFileWorkflow

log = logging.getLogger("ringside.rag.ingest")


class IngestStarter(PendingStarter[pb.PendingIngest]):
    def __init__(self, core: CoreClient, client: Client, search_attributes: bool) -> None:
        super().__init__(client, search_attributes, log)
        self._core = core

    async def pending(self) -> Sequence[pb.PendingIngest]:
        request = pb.PendingIngestsRequest(limit=CLAIM_LIMIT)
        return (await self._core.internal(self._core.vector_stores.PendingIngests, request)).ingests

    def start_of(self, pending: pb.PendingIngest) -> Start:
        request = IngestInput(pending.store_id, pending.file_id, pending.attach_id)
        return Start(
            IngestFileWorkflow.run,
            request,
            workflow_id(pending.customer_id or pending.account_id, request),
            TASK_QUEUE,
            pending.customer_id,
            {"customer_id": pending.customer_id, "store_id": pending.store_id, "file_id": pending.file_id},
        )
