"""RagMigrateStore (issue 17): re-embed a vector store with another model into a new index
generation, swap, keep the old index 7 days, then drop what is no longer live.

    embed    (activity, heartbeating, resumable: rag_migrate_embed) every completed file from its
             cached parse into the new generation; searches keep answering from the live one
    finish   (rag_migrate_finish) the core swaps the store's model and live generation in one write
             — or says files from before the migration are still ingesting: embed again, finish again
    wait     a durable 7-day timer (Temporal's: it survives restarts of every role)
    retire   (rag_migrate_retire) the core ends the rollback window and names the generation no
             longer live (the old one; after a rollback the new one); that index is dropped

A cancelled or failed migration drops its half-built index at once. Inputs and outcomes carry ids
only (DECISIONS.md: "Temporal inputs and results carry ids only")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from temporalio import workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ActivityError, ApplicationError, TimeoutError

with workflow.unsafe.imports_passed_through():
    from workers.rag_ingest.shared import LeftHold, left_hold

MIGRATION_WORKFLOW = "RagMigrateStore"
KEEP_OLD_INDEX = timedelta(days=7)
EMBED_TIMEOUT = timedelta(hours=12)
EMBED_HEARTBEAT = timedelta(seconds=20)  # a killed rag role's attempt is retried this soon (a ticker beats)
MAX_ROUNDS = 20  # embed/finish rounds while earlier ingests finish (each round waits for them)
GAVE_UP = "The store could not be re-embedded after several attempts; its live index is unchanged."
# A batch hold an embed attempt left open is settled by the workflow (`_settle_left`): its activity
# retries every ≤30 s for up to an hour, which rides out any takeover. Past that the hold expires at
# its reserve as before (and a later settle would still correct it).
SETTLE_LEFT_TIMEOUT = timedelta(hours=1)
# Histories from before the workflow settled a left hold replay without that step.
SETTLES_LEFT_HOLDS = "settles-left-holds"


@dataclass
class MigrationInput:
    migration_id: str


@dataclass
class EmbedOutcome:
    """`embedded` (every completed file is in the new index), `cancelled`, `gone` (the store was
    deleted) or `failed` with last_error's code and message."""

    status: str
    error_code: str = ""
    error_message: str = ""
    # A batch hold the attempt could not settle (its core away), for the workflow to settle.
    left_hold: LeftHold | None = None


@dataclass
class FinishInput:
    migration_id: str
    outcome: EmbedOutcome


@dataclass
class FinishOutcome:
    """The migration's status now (`completed`, `failed`, `cancelled`, `gone`), or `again` when
    files from before it were still ingesting (nothing swapped)."""

    status: str
    to_generation: int = 0


@dataclass
class DropInput:
    migration_id: str
    generation: int


def migration_workflow_id(owner: str, store_id: str, migration_id: str) -> str:
    """Deterministic: the owner (`cus_…` or `acct_…`), the store, the migration."""
    return f"rag-migrate-{owner}-{store_id}-{migration_id}"


@workflow.defn(name=MIGRATION_WORKFLOW)
class MigrateStoreWorkflow:
    @workflow.run
    async def run(self, request: MigrationInput) -> str:
        finished = FinishOutcome("again")
        for _ in range(MAX_ROUNDS):
            try:
                outcome: EmbedOutcome = await workflow.execute_activity(
                    "rag_migrate_embed",
                    request,
                    result_type=EmbedOutcome,
                    start_to_close_timeout=EMBED_TIMEOUT,
                    heartbeat_timeout=EMBED_HEARTBEAT,
                    retry_policy=RetryPolicy(maximum_attempts=5, initial_interval=timedelta(seconds=1)),
                )
            except ActivityError as error:
                outcome = EmbedOutcome("failed", "server_error", GAVE_UP, left_hold=_left_by(error))
            await self._settle_left(outcome)
            finished = await workflow.execute_activity(
                "rag_migrate_finish",
                FinishInput(request.migration_id, outcome),
                result_type=FinishOutcome,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(maximum_attempts=30, maximum_interval=timedelta(seconds=30)),
            )
            if finished.status != "again":
                break
            await workflow.sleep(timedelta(seconds=2))
        if finished.status == "again":  # earlier ingests never finished: give up, the store is unchanged
            finished = await workflow.execute_activity(
                "rag_migrate_finish",
                FinishInput(request.migration_id, EmbedOutcome("failed", "server_error", GAVE_UP)),
                result_type=FinishOutcome,
                start_to_close_timeout=timedelta(seconds=60),
                retry_policy=RetryPolicy(maximum_attempts=30, maximum_interval=timedelta(seconds=30)),
            )
        if finished.status in ("failed", "cancelled"):
            await self._drop(DropInput(request.migration_id, finished.to_generation))
            return finished.status
        if finished.status != "completed":
            return finished.status
        await workflow.sleep(KEEP_OLD_INDEX)
        await workflow.execute_activity(
            "rag_migrate_retire",
            request,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )
        return "retired"

    async def _settle_left(self, outcome: EmbedOutcome) -> None:
        """The batch hold the embed left open (the last attempt's failure, or an outcome whose hold
        the core could not record), settled at what the batch used — never left to expire at its
        reserve because every attempt ran while its core was away."""
        left = outcome.left_hold
        outcome.left_hold = None  # settled here: the finish input carries no hold
        if left is None or not workflow.patched(SETTLES_LEFT_HOLDS):
            return
        try:
            await workflow.execute_activity(
                "rag_migrate_settle_hold",
                left,
                start_to_close_timeout=timedelta(seconds=60),
                schedule_to_close_timeout=SETTLE_LEFT_TIMEOUT,
                retry_policy=RetryPolicy(maximum_interval=timedelta(seconds=30)),
            )
        except ActivityError:
            workflow.logger.error("batch hold %s could not be settled; it expires at its reserve", left.hold_id)

    async def _drop(self, drop: DropInput) -> None:
        await workflow.execute_activity(
            "rag_migrate_drop",
            drop,
            start_to_close_timeout=timedelta(minutes=10),
            retry_policy=RetryPolicy(maximum_interval=timedelta(minutes=5)),
        )


def _left_by(error: ActivityError) -> LeftHold | None:
    """The hold a failed embed's last attempt left open: in its failure's details (it raised), or in
    its last heartbeat (it timed out: the rag role died)."""
    cause = error.cause
    if isinstance(cause, ApplicationError):
        return left_hold(cause.details)
    if isinstance(cause, TimeoutError):
        return left_hold(cause.last_heartbeat_details)
    return None
