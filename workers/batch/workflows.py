"""RingsideBatch: run a batch's lines, then write its files and report its outcome to the core. The
run activity journals each line's admission and result, so a retry — after the worker was killed
too — skips the lines that have a result and settles once those a crash left open. A batch the run
forwarded to its provider's batch API is polled, a durable timer between polls, then collected."""

from __future__ import annotations

from datetime import timedelta
from typing import TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workers.batch.shared import WORKFLOW_NAME, BatchInput, FinishInput, PollOutcome, RunOutcome

# The window is 24 h; the run stops itself at the batch's expiry, so this only bounds a stuck attempt.
RUN_TIMEOUT = timedelta(hours=25)
RUN_HEARTBEAT = timedelta(seconds=10)
GAVE_UP = "The batch could not be run after several attempts."
UPSTREAM_FINAL = ("completed", "failed", "expired", "cancelled")
STEP_TIMEOUT = timedelta(minutes=10)
STEP_RETRY = RetryPolicy(maximum_attempts=30, maximum_interval=timedelta(seconds=30))
# A poll or collect heartbeats: one cut by a worker's death is retried in seconds, not at its timeout.
STEP_HEARTBEAT = timedelta(seconds=5)
T = TypeVar("T")


async def _step(name: str, request: BatchInput, result_type: type[T]) -> T:
    """One short activity of a forwarded batch (a poll, the collect), retried as the finish is."""
    result: T = await workflow.execute_activity(
        name,
        request,
        result_type=result_type,
        start_to_close_timeout=STEP_TIMEOUT,
        heartbeat_timeout=STEP_HEARTBEAT,
        retry_policy=STEP_RETRY,
    )
    return result


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
        if outcome.status == "forwarded":
            outcome = await self._polled(request)
        if outcome.status != "finished":
            await workflow.execute_activity(
                "batch_finish",
                FinishInput(request, outcome),
                start_to_close_timeout=STEP_TIMEOUT,
                retry_policy=STEP_RETRY,
            )
        return outcome

    async def _polled(self, request: BatchInput) -> RunOutcome:
        """Until the provider's batch ends: poll, then sleep (a durable timer); then collect."""
        try:
            while True:
                poll = await _step("batch_poll", request, PollOutcome)
                if poll.status in UPSTREAM_FINAL:
                    break
                await workflow.sleep(timedelta(seconds=poll.wait_s))
            return await _step("batch_collect", request, RunOutcome)
        except ActivityError:
            return RunOutcome("failed", "server_error", GAVE_UP)
