"""AssistantRun: a run's model calls, one activity each, until the run ends. At `requires_action`
it waits (an activity that follows the run in the core) for the tool outputs, a cancel or the
run's expiry. A worker killed mid-call loses that call's activity, which Temporal retries on
another worker: the step reads the run again and goes on from what the core holds."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from ringside_server.openai.assistant_objects import MAX_RUN_STEPS
    from workers.runs.shared import WORKFLOW_NAME, RunInput, StepOutcome

STEP_TIMEOUT = timedelta(minutes=11)  # a run expires after ten
STEP_HEARTBEAT = timedelta(seconds=10)  # how soon a killed worker's step is tried again elsewhere
WAIT_TIMEOUT = timedelta(minutes=2)
MAX_LOOPS = MAX_RUN_STEPS * 8  # waits included: the run's expiry ends it sooner


@workflow.defn(name=WORKFLOW_NAME)
class AssistantRunWorkflow:
    @workflow.run
    async def run(self, request: RunInput) -> str:
        retry = RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1))
        for _ in range(MAX_LOOPS):
            try:
                outcome: StepOutcome = await workflow.execute_activity(
                    "assistant_run_step",
                    request,
                    result_type=StepOutcome,
                    start_to_close_timeout=STEP_TIMEOUT,
                    heartbeat_timeout=STEP_HEARTBEAT,
                    retry_policy=retry,
                )
            except ActivityError:
                outcome = await self._fail(request)
            if outcome.state == "done":
                return outcome.status
            if outcome.state == "waiting":
                await workflow.execute_activity(
                    "assistant_run_wait",
                    request,
                    start_to_close_timeout=WAIT_TIMEOUT,
                    heartbeat_timeout=STEP_HEARTBEAT,
                    retry_policy=retry,
                )
        return (await self._fail(request)).status

    async def _fail(self, request: RunInput) -> StepOutcome:
        """The run could not go on (its step failed five times, or looped too long): failed, visibly."""
        outcome: StepOutcome = await workflow.execute_activity(
            "assistant_run_fail",
            request,
            result_type=StepOutcome,
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=30, maximum_interval=timedelta(seconds=30)),
        )
        return outcome
