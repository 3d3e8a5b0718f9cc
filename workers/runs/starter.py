"""Starts the run workflows, in the worker: the edge has no Temporal client, so — like the ingest
starter — the worker asks the core for runs still `queued` and starts one workflow each. A run's
workflow id is its own, and a running one is never started again, so a restart of the worker (or two
of them) starts each run once; a run given its tool outputs is `queued` again while its workflow
still runs (that start is refused, and the workflow goes on)."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from temporalio.client import Client
from temporalio.common import WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError

from ringside.core.v1 import assistants_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.runs.shared import TASK_QUEUE, RunInput, workflow_id
from workers.runs.workflows import AssistantRunWorkflow

log = logging.getLogger("ringside.worker.runs")
CLAIM_LIMIT = 200
POLL_EVERY_S = 0.25


class RunStarter:
    def __init__(self, core: CoreClient, client: Client) -> None:
        self._core = core
        self._client = client

    async def _start(self, run: pb.AssistantObject) -> None:
        with contextlib.suppress(WorkflowAlreadyStartedError):
            await self._client.start_workflow(
                AssistantRunWorkflow.run,
                RunInput(run.id, run.parent_id, run.key_id),
                id=workflow_id(run.id),
                task_queue=TASK_QUEUE,
                id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
                memo={"customer_id": run.customer_id, "thread_id": run.parent_id},
            )

    async def start_pending(self) -> int:
        """Starts the workflows of the runs queued now. → how many were queued."""
        answer = await self._core.internal(self._core.assistants.PendingRuns, pb.PendingRunsRequest(limit=CLAIM_LIMIT))
        await asyncio.gather(*(self._start(run) for run in answer.runs))
        return len(answer.runs)

    async def run(self) -> None:
        while True:
            try:
                await self.start_pending()
            except (RingsideError, RPCError) as error:  # the core or Temporal restarting: next round
                log.warning("queued runs not started this round: %s", error)
            await asyncio.sleep(POLL_EVERY_S)
