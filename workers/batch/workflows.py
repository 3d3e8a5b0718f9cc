"""RingsideBatch: run a batch's lines, then write its files and report its outcome to the core. The
run activity journals each line's admission and result, so a retry — after the worker was killed
too — skips the lines that have a result and settles once those a crash left open."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workers.batch.shared import WORKFLOW_NAME, BatchInput, FinishInput, RunOutcome

# The window is 24 h; the run stops itself at the batch's expiry, so this only bounds a stuck attempt.
RUN_TIMEOUT = timedelta(hours=25)
RUN_HEARTBEAT = timedelta(seconds=10)
GAVE_UP = "The batch could not be run after several attempts."


@workflow.defn(name=WORKFLOW_NAME)
class BatchWorkflow:
    @workflow.run
    async def run(self, request: BatchInput) -> RunOutcome:
        try:
            outcome: RunOutcome = await workflow.execute_activity(
                "batch_run_lines",
                request,
                result_type=RunOutcome,
                start_to_close_timeout=RUN_TIMEOUT,
                heartbeat_timeout=RUN_HEARTBEAT,
                retry_policy=RetryPolicy(maximum_attempts=10, initial_interval=timedelta(seconds=1)),
            )
        except ActivityError:
            outcome = RunOutcome("failed", "server_error", GAVE_UP)
        if outcome.status != "finished":
            await workflow.execute_activity(
                "batch_finish",
                FinishInput(request, outcome),
                start_to_close_timeout=timedelta(minutes=10),
                retry_policy=RetryPolicy(maximum_attempts=30, maximum_interval=timedelta(seconds=30)),
            )
        return outcome
