"""Starts the batch workflows, in the worker (workers/pending_starter.py): one per batch the core
says is not finished."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from temporalio.client import Client

from ringside.core.v1 import batches_pb2 as pb
from ringside_server.core_client import CoreClient
from workers.batch.shared import BatchInput, workflow_id
from workers.batch.workflows import BatchWorkflow
from workers.pending_starter import CLAIM_LIMIT, PendingStarter, Start

log = logging.getLogger("ringside.worker.batch")


class BatchStarter(PendingStarter[pb.PendingBatch]):
    def __init__(self, core: CoreClient, client: Client, task_queue: str, search_attributes: bool) -> None:
        super().__init__(client, search_attributes, log)
        self._core = core
        self._task_queue = task_queue

    async def pending(self) -> Sequence[pb.PendingBatch]:
        request = pb.PendingBatchesRequest(limit=CLAIM_LIMIT)
        return (await self._core.internal(self._core.batches.PendingBatches, request)).batches

    def start_of(self, pending: pb.PendingBatch) -> Start:
        return Start(
            BatchWorkflow.run,
            BatchInput(pending.batch_id),
            workflow_id(pending.customer_id or pending.account_id, pending.batch_id),
            self._task_queue,
            pending.customer_id,
            {"customer_id": pending.customer_id, "batch_id": pending.batch_id},
        )
