"""Starts the batch workflows, in the worker: like the rag role's ingest starter, it asks the core
for batches not finished and starts one workflow each. Ids are deterministic and a running or
completed one is never started again, so a restart of the worker (or two of them) starts each batch
once; a failed run may be started anew."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from ringside.core.v1 import batches_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.batch.shared import BatchInput, workflow_id
from workers.batch.workflows import BatchWorkflow
from workers.webhooks.search import customer_attributes

log = logging.getLogger("ringside.worker.batch")
CLAIM_LIMIT = 200
POLL_EVERY_S = 0.5


class BatchStarter:
    def __init__(self, core: CoreClient, client: Client, task_queue: str, search_attributes: bool) -> None:
        self._core = core
        self._client = client
        self._task_queue = task_queue
        self._search_attributes = search_attributes
        self._started: set[str] = set()  # ids started by this process and still pending

    async def _start(self, pending: pb.PendingBatch) -> str:
        workflow = workflow_id(pending.customer_id or pending.account_id, pending.batch_id)
        if workflow in self._started:
            return workflow
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                BatchWorkflow.run,
                BatchInput(pending.batch_id),
                id=workflow,
                task_queue=self._task_queue,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                memo={"customer_id": pending.customer_id, "batch_id": pending.batch_id},
                search_attributes=customer_attributes(pending.customer_id) if self._search_attributes else None,
            )
        return workflow

    async def start_pending(self) -> int:
        """Starts the workflows of what is pending now. → how many were pending."""
        answer = await self._core.internal(
            self._core.batches.PendingBatches, pb.PendingBatchesRequest(limit=CLAIM_LIMIT)
        )
        ids = await asyncio.gather(*(self._start(pending) for pending in answer.batches))
        self._started = set(ids)  # what is no longer pending is forgotten: the set stays bounded
        return len(ids)

    async def run(self) -> None:
        while True:
            try:
                await self.start_pending()
            except (RingsideError, RPCError) as error:
                log.warning("batch starter: %s; retrying", error)
            await asyncio.sleep(POLL_EVERY_S)
