"""The activities of RagMigrateStore (workers/rag_ingest/migration.py), run in the rag role: embed
every completed file of the store from its cached parse into the migration's generation (through
workers/rag_ingest/reembed.py: resumable, metered per batch), report progress, ask the core to swap,
drop a generation no longer live."""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import Awaitable, Callable

from temporalio import activity

from rag.errors import IngestError
from rag.index import index_name
from ringside.core.v1 import metering_pb2
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from workers.rag_ingest.holds import OpenHold, carrying_hold, settle_left, settle_previous
from workers.rag_ingest.migration import DropInput, EmbedOutcome, FinishInput, FinishOutcome, MigrationInput
from workers.rag_ingest.reembed import FileDone, Reembedder, Target
from workers.rag_ingest.shared import LeftHold, left_hold

log = logging.getLogger("ringside.rag.migrate")
WAIT_FOR_INGESTS_S = 1.0
HEARTBEAT_EVERY_S = 2.0


class Cancelled(Exception):
    """The migration was cancelled (or ended) while this attempt ran."""


def target_of(migration: pb.Migration) -> Target:
    return Target(
        migration.store_id,
        migration.to_generation,
        migration.to_model,
        migration.livemode,
        migration.key_id,
        migration.customer_id,
    )


class MigrationActivities:
    def __init__(
        self,
        core: CoreClient,
        reembedder: Reembedder,
        text_of: Callable[[str, str, str], Awaitable[str]],
        drop_index: Callable[[str], Awaitable[None]],
        delete_file: Callable[[str, str], Awaitable[None]],
    ) -> None:
        self._core = core
        self._reembedder = reembedder
        self._text_of = text_of  # (file id, filename, sha256) → the cached parse
        self._drop_index = drop_index
        self._delete_file = delete_file

    async def _job(self, migration_id: str) -> pb.MigrationJobResponse | None:
        try:
            return await self._core.internal(
                self._core.vector_stores.GetMigrationJob, pb.MigrationJobRequest(migration_id=migration_id)
            )
        except RingsideError as error:
            if error.code == "not_found":
                return None
            raise

    @activity.defn(name="rag_migrate_embed")
    async def embed(self, request: MigrationInput) -> EmbedOutcome:
        """Every completed file into the new generation; then again while files attached before the
        migration are still ingesting (they may have been embedded with the old model only).

        Heartbeats come from a ticker, not only after each batch: a batch of a slow model on a loaded
        machine can outlast the heartbeat timeout, and Temporal would then start a second attempt
        beside this live one — both embedding the same chunks. The timeout is for a dead rag role.

        Every heartbeat carries the open batch hold (holds.py): one a core could not settle through
        its takeover is settled by the next batch, or first thing by the next attempt (after the
        core's death, the migration's failure or its cancel), at what the batch used. One still
        open when the attempt ends goes to the workflow, which settles it (`rag_migrate_settle_hold`):
        in the outcome, or in the failure — the last attempt's is the workflow's to read."""
        previous = activity.info().heartbeat_details
        try:
            await settle_previous(self._core, previous)
        except Exception as error:
            raise carrying_hold(error, previous) from error
        hold = OpenHold(self._core)
        ticker = asyncio.create_task(_tick(hold))
        failure: Exception | None = None
        try:
            outcome = await self._embed(request, hold)
        except Exception as error:
            failure = error
        finally:
            ticker.cancel()
            await hold.settle_leaving(metering_pb2.SETTLE_OUTCOME_COMPLETED)
            hold.beat()
        if failure is not None:
            raise carrying_hold(failure, hold.details()) from failure
        outcome.left_hold = left_hold(hold.details())
        return outcome

    @activity.defn(name="rag_migrate_settle_hold")
    async def settle_hold(self, left: LeftHold) -> None:
        """A batch hold an embed attempt left open (its core away through every retry), settled at
        what the batch used once a core answers (this activity's retries ride out a takeover)."""
        await settle_left(self._core, left)

    async def _embed(self, request: MigrationInput, hold: OpenHold) -> EmbedOutcome:
        written: set[str] = set()  # files this attempt wrote: one detached meanwhile is removed again
        chunks_by_file: dict[str, int] = {}
        tokens = 0
        spent_before: int | None = None  # what earlier attempts reported (a retry after a crash adds to it)
        while True:
            job = await self._job(request.migration_id)
            if job is None:
                return EmbedOutcome("gone")
            migration = job.migration
            if migration.status != "in_progress":
                return EmbedOutcome("cancelled")
            target = target_of(migration)
            if spent_before is None:
                spent_before = migration.embedding_tokens
            try:
                model = self._reembedder.model(target.model_ref)
                for done_files, file in enumerate(job.files):
                    text = await self._text_of(file.file_id, file.filename, file.sha256)
                    chunks, _ = self._reembedder.chunks(text, file.chunking_json, model)

                    others = sum(n for f, n in chunks_by_file.items() if f != file.file_id)
                    report = functools.partial(self._report, migration.id, done_files, others, spent_before + tokens)

                    result = await self._reembedder.embed_file(
                        target,
                        file.file_id,
                        file.filename,
                        chunks,
                        json.loads(file.attributes_json or "{}"),
                        file.attributes_version,
                        after_batch=report,
                        hold=hold,
                    )
                    written.add(file.file_id)
                    chunks_by_file[file.file_id] = result.chunks
                    tokens += result.tokens
                    await self._progress(
                        migration.id, done_files + 1, sum(chunks_by_file.values()), spent_before + tokens
                    )
            except Cancelled:
                return EmbedOutcome("cancelled")
            except IngestError as error:
                return EmbedOutcome("failed", error.code, error.message)
            attached = {file.file_id for file in job.files}
            for gone in written - attached:  # detached (or cancelled) while this ran
                await self._delete_file(index_name(migration.store_id, migration.to_generation), gone)
                written.discard(gone)
                chunks_by_file.pop(gone, None)
            if not job.waiting_files:
                return EmbedOutcome("embedded")
            hold.beat()
            await asyncio.sleep(WAIT_FOR_INGESTS_S)

    async def _report(self, migration_id: str, files_done: int, chunks: int, tokens: int, so_far: FileDone) -> None:
        """After each batch: the progress (which notices a cancel)."""
        await self._progress(migration_id, files_done, chunks + so_far.embedded, tokens + so_far.tokens)

    async def _progress(self, migration_id: str, files_done: int, chunks_done: int, tokens: int) -> None:
        """Reports progress; raises Cancelled once the migration is no longer in progress."""
        now = await self._core.internal(
            self._core.vector_stores.ProgressMigration,
            pb.ProgressMigrationRequest(
                migration_id=migration_id, files_done=files_done, chunks_done=chunks_done, embedding_tokens=tokens
            ),
        )
        if now.migration.status != "in_progress":
            raise Cancelled

    @activity.defn(name="rag_migrate_finish")
    async def finish(self, finished: FinishInput) -> FinishOutcome:
        outcome = finished.outcome
        job = await self._job(finished.migration_id)
        if job is None:
            return FinishOutcome("gone")
        if outcome.status in ("embedded", "failed"):
            failed = outcome.status == "failed"
            answer = await self._core.internal(
                self._core.vector_stores.FinishMigration,
                pb.FinishMigrationRequest(
                    migration_id=finished.migration_id,
                    status="failed" if failed else "completed",
                    last_error_code=outcome.error_code if failed else "",
                    last_error_message=outcome.error_message if failed else "",
                ),
            )
            if answer.waiting_files:
                return FinishOutcome("again")
            migration = answer.migration
        else:
            migration = job.migration
        status = migration.status if outcome.status != "gone" else "gone"
        return FinishOutcome(status, migration.to_generation)

    @activity.defn(name="rag_migrate_drop")
    async def drop(self, drop: DropInput) -> None:
        job = await self._job(drop.migration_id)
        if job is not None and job.store.generation == drop.generation:
            return  # live (never expected): an index under a store is never dropped
        if job is not None:
            await self._drop_index(index_name(job.store.id, drop.generation))

    @activity.defn(name="rag_migrate_retire")
    async def retire(self, request: MigrationInput) -> None:
        answer = await self._core.internal(
            self._core.vector_stores.RetireMigration, pb.MigrationJobRequest(migration_id=request.migration_id)
        )
        if answer.drop_generation >= 0 and answer.migration.store_id:
            await self._drop_index(index_name(answer.migration.store_id, answer.drop_generation))
            log.info(
                "migration %s: generation %d of store %s dropped after 7 days",
                request.migration_id,
                answer.drop_generation,
                answer.migration.store_id,
            )


async def _tick(hold: OpenHold) -> None:
    while True:
        hold.beat()
        await asyncio.sleep(HEARTBEAT_EVERY_S)
