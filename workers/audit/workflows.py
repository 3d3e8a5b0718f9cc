"""LedgerAudit: verify the ledger; a broken invariant fails the workflow, visibly, in the Temporal UI."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from workers.audit.activities import AUDIT_TIMEOUT_S, AuditActivities
    from workers.audit.shared import WORKFLOW_NAME, AuditInput, AuditResult


@workflow.defn(name=WORKFLOW_NAME)
class LedgerAuditWorkflow:
    @workflow.run
    async def run(self, request: AuditInput) -> AuditResult:
        result = await workflow.execute_activity_method(
            AuditActivities.verify_ledger,
            request,
            start_to_close_timeout=timedelta(seconds=AUDIT_TIMEOUT_S),
            retry_policy=RetryPolicy(
                maximum_attempts=5, initial_interval=timedelta(seconds=2), non_retryable_error_types=["ValueError"]
            ),
        )
        if not result.ok:
            raise ApplicationError(
                f"ledger invariants broken: {result}", result, non_retryable=True, type="LedgerInvariantBroken"
            )
        return result
