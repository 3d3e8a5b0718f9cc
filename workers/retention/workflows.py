"""RetentionPurge: the core purges what outlived its retention; the run is visible in the UI."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workers.retention.activities import PURGE_TIMEOUT_S, RetentionActivities
    from workers.retention.shared import WORKFLOW_NAME, PurgeInput, PurgeResult


@workflow.defn(name=WORKFLOW_NAME)
class RetentionPurgeWorkflow:
    @workflow.run
    async def run(self, request: PurgeInput) -> PurgeResult:
        return await workflow.execute_activity_method(
            RetentionActivities.purge_expired,
            request,
            start_to_close_timeout=timedelta(seconds=PURGE_TIMEOUT_S),
            retry_policy=RetryPolicy(
                maximum_attempts=5,
                initial_interval=timedelta(seconds=5),
                non_retryable_error_types=["invalid_api_key", "internal_error"],
            ),
        )
