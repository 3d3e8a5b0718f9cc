"""WebhookDelivery: one event to one endpoint, retried on API.md's schedule for ~3 days.

Each attempt is an activity (signed with that attempt's time, logged by the core); between failed
attempts the workflow sleeps durably, so a worker or core restart changes nothing but who runs it.
"""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from workers.webhooks.activities import DeliveryActivities
    from workers.webhooks.shared import (
        ATTEMPT_TIMEOUT_S,
        RETRY_SCHEDULE_S,
        WORKFLOW_NAME,
        AttemptInput,
        DeliveryInput,
        DeliveryResult,
    )

# Retries of one attempt's own failures (the core unreachable), not of the receiver's answers.
ATTEMPT_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=30,
    non_retryable_error_types=["invalid_api_key", "not_found", "invalid_request"],
)


@workflow.defn(name=WORKFLOW_NAME)
class WebhookDeliveryWorkflow:
    @workflow.run
    async def run(self, request: DeliveryInput) -> DeliveryResult:
        attempts = len(RETRY_SCHEDULE_S) + 1
        for number in range(1, attempts + 1):
            now = int(workflow.now().timestamp())
            wait_s = RETRY_SCHEDULE_S[number - 1] if number < attempts else 0
            result = await workflow.execute_activity_method(
                DeliveryActivities.attempt,
                AttemptInput(request.event_id, request.endpoint_id, number, now, now + wait_s if wait_s else 0),
                start_to_close_timeout=timedelta(seconds=ATTEMPT_TIMEOUT_S),
                retry_policy=ATTEMPT_RETRY,
            )
            if result.delivered:
                return DeliveryResult(True, number, "delivered")
            if result.endpoint_disabled:
                return DeliveryResult(False, number, "endpoint_disabled")
            if result.stop:
                return DeliveryResult(False, number, "endpoint_inactive")
            if wait_s:
                await workflow.sleep(timedelta(seconds=wait_s))
        return DeliveryResult(False, attempts, "schedule_exhausted")
