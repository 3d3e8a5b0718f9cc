"""Starts the ingest workflows, in the rag role: the edge has no Temporal client, so — like the
webhook outbox's relay — the rag role asks the core for attachments still `in_progress` and starts
one workflow each. Ids are deterministic and a running or completed one is never started again, so a
restart of the rag role (or two of them) starts each ingest once; a failed run may be started anew."""

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
from workers.rag_ingest.shared import TASK_QUEUE, IngestInput, workflow_id
from workers.rag_ingest.workflows import IngestFileWorkflow
from workers.webhooks.search import customer_attributes

log = logging.getLogger("ringside.rag.ingest")
CLAIM_LIMIT = 200
POLL_EVERY_S = 0.5


class IngestStarter:
    what = "ingest"  # in the log line of a failed poll

    def __init__(self, core: CoreClient, client: Client, search_attributes: bool) -> None:
        self._core = core
        self._client = client
        self._search_attributes = search_attributes
        self._started: set[str] = set()  # ids started by this process and still pending

    async def _start(self, pending: pb.PendingIngest) -> str:
        request = IngestInput(pending.store_id, pending.file_id, pending.attach_id)
        workflow = workflow_id(pending.customer_id or pending.account_id, request)
        if workflow in self._started:
            return workflow
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                IngestFileWorkflow.run,
                request,
                id=workflow,
                task_queue=TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                memo={"customer_id": pending.customer_id, "store_id": pending.store_id, "file_id": pending.file_id},
                search_attributes=customer_attributes(pending.customer_id) if self._search_attributes else None,
            )
        return workflow

    async def start_pending(self) -> int:
        """Starts the workflows of what is pending now. → how many were pending."""
        answer = await self._core.internal(
            self._core.vector_stores.PendingIngests, pb.PendingIngestsRequest(limit=CLAIM_LIMIT)
        )
        ids = await asyncio.gather(*(self._start(pending) for pending in answer.ingests))
        self._started = set(ids)  # what is no longer pending is forgotten: the set stays bounded
        return len(ids)

    async def run(self) -> None:
        while True:
            try:
                await self.start_pending()
            except (RingsideError, RPCError) as error:
                log.warning("%s starter: %s; retrying", self.what, error)
            await asyncio.sleep(POLL_EVERY_S)
