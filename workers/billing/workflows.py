"""BillingPeriodRollover and StripeUsageSync: deterministic loops over batched activities."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError

with workflow.unsafe.imports_passed_through():
    from workers.billing.activities import CORE_TIMEOUT_S, TRANSIENT, BillingActivities
    from workers.billing.shared import (
        CloseInput,
        FinishSyncInput,
        RolloverInput,
        RolloverResult,
        SyncBatchInput,
        SyncBatchResult,
        SyncInput,
        SyncResult,
    )

MAX_BATCHES = 1000  # per round: 200 periods / 100 customers each
# Holds resolve within their TTL (default 15 min); a live stream may extend its own. Wait that long
# in rounds, then let the next scheduled run close what is still waiting.
RECHECK = timedelta(minutes=5)
MAX_ROUNDS = 12
HEARTBEAT_TIMEOUT_S = 20  # the batch's heartbeats come every 5 s while its worker lives
CORE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=2),
    maximum_interval=timedelta(minutes=1),
    maximum_attempts=10,
    non_retryable_error_types=["invalid_api_key", "invalid_request", "internal_error"],
)
STRIPE_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=5),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(minutes=5),
    maximum_attempts=6,
    non_retryable_error_types=["invalid_api_key", "invalid_request", "internal_error"],
)


@workflow.defn(name="BillingPeriodRollover")
class BillingPeriodRolloverWorkflow:
    def __init__(self) -> None:
        self._progress = RolloverResult()

    @workflow.query
    def progress(self) -> RolloverResult:
        return self._progress

    @workflow.run
    async def run(self, request: RolloverInput) -> RolloverResult:
        for _ in range(MAX_ROUNDS):
            self._progress.rounds += 1
            waiting = 0
            for _ in range(MAX_BATCHES):
                batch = await workflow.execute_activity_method(
                    BillingActivities.close_periods,
                    CloseInput(),
                    start_to_close_timeout=timedelta(seconds=CORE_TIMEOUT_S * 2),
                    retry_policy=CORE_RETRY,
                )
                self._progress.closed += batch.closed
                waiting = batch.waiting
                if not batch.has_more:
                    break
            self._progress.waiting = waiting
            if not waiting:
                break
            await workflow.sleep(RECHECK)
        return self._progress


def _partial(error: ActivityError) -> SyncBatchResult | None:
    """What a batch that ran out of retries on transient Stripe errors still did."""
    cause = error.cause
    if isinstance(cause, ApplicationError) and cause.type == TRANSIENT and cause.details:
        details = cause.details[0]
        if isinstance(details, dict):
            return SyncBatchResult(**details)
    return None


@workflow.defn(name="StripeUsageSync")
class StripeUsageSyncWorkflow:
    @workflow.run
    async def run(self, request: SyncInput) -> SyncResult:
        run_id = workflow.info().workflow_id
        result = SyncResult()
        after = ""
        for _ in range(MAX_BATCHES):
            try:
                batch = await workflow.execute_activity_method(
                    BillingActivities.sync_batch,
                    SyncBatchInput(run_id, after),
                    start_to_close_timeout=timedelta(minutes=5),
                    heartbeat_timeout=timedelta(seconds=HEARTBEAT_TIMEOUT_S),
                    retry_policy=STRIPE_RETRY,
                )
            except ActivityError as error:
                partial = _partial(error)
                if partial is None:
                    raise
                batch = partial  # those customers wait for the next run; the others go on
            result.batches += 1
            result.pushed += batch.pushed
            result.duplicates += batch.duplicates
            result.failed += batch.failed
            result.transient += batch.transient
            after = batch.last_customer_id
            if not batch.has_more:
                break
        await workflow.execute_activity_method(
            BillingActivities.finish_sync,
            FinishSyncInput(run_id),
            start_to_close_timeout=timedelta(seconds=CORE_TIMEOUT_S * 2),
            retry_policy=CORE_RETRY,
        )
        return result
