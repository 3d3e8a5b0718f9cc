"""RagIngestFile: ingest one attached file, then report the outcome to the core. The ingest activity
parses (cached), chunks, embeds in heartbeating batches and upserts with deterministic point ids,
so a retry — after a crash of the rag role too — rewrites the same points and never adds a chunk."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError

with workflow.unsafe.imports_passed_through():
    from workers.rag_ingest.migration import MigrateStoreWorkflow
    from workers.rag_ingest.shared import WORKFLOW_NAME, FinishInput, IngestInput, IngestOutcome

INGEST_TIMEOUT = timedelta(hours=2)
INGEST_HEARTBEAT = timedelta(seconds=60)
GAVE_UP = "The file could not be ingested after several attempts; attach it again to retry."


@workflow.defn(name=WORKFLOW_NAME)
class IngestFileWorkflow:
    @workflow.run
    async def run(self, request: IngestInput) -> IngestOutcome:
        try:
            outcome: IngestOutcome = await workflow.execute_activity(
                "rag_ingest_file",
                request,
                result_type=IngestOutcome,
                start_to_close_timeout=INGEST_TIMEOUT,
                heartbeat_timeout=INGEST_HEARTBEAT,
                retry_policy=RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1)),
            )
        except ActivityError:
            outcome = IngestOutcome("failed", 0, "server_error", GAVE_UP)
        await workflow.execute_activity(
            "rag_finish_ingest",
            FinishInput(request, outcome),
            start_to_close_timeout=timedelta(seconds=60),
            retry_policy=RetryPolicy(maximum_attempts=30, maximum_interval=timedelta(seconds=30)),
        )
        return outcome


# Every workflow the rag role's worker runs (issue 16's ingest, issue 17's migration).
WORKFLOWS = [IngestFileWorkflow, MigrateStoreWorkflow]
