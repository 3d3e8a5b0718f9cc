"""The ingest activities, run in the rag role (which alone holds the parser, the model and the
embedded index): read the file's bytes from the file store, parse them (cached by content hash),
chunk, embed in batches — heartbeating each, so a retry resumes after the last batch written — and
upsert with deterministic point ids; then report the outcome to the core (`FinishIngest`), which
emits `vector_store.file.completed|failed`. Only this module (and rag/) imports the heavy parts;
`ringside worker` never loads it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import pathlib
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from temporalio import activity

from rag.chunking import Chunk, Chunker, chunk_id, resolve_strategy
from rag.embedder import DIMENSIONS
from rag.errors import IngestError, InvalidRequestError
from rag.filetypes import media_kind
from rag.index import IndexNotFoundError, IndexPoint, index_name
from rag.parsing import parse_document
from ringside.core.v1 import metering_pb2
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.file_store import FileStore
from ringside_server.providers.catalog.load import CatalogModel, load_catalog
from workers.rag_ingest.embedding import IngestEmbedding
from workers.rag_ingest.holds import IngestHolds, OpenHold, Refused, heartbeat, new_hold_id, resumes_after
from workers.rag_ingest.media import MediaReader, Payer
from workers.rag_ingest.migration_activities import MigrationActivities, target_of
from workers.rag_ingest.rebuild import Rebuilder
from workers.rag_ingest.reembed import Reembedder
from workers.rag_ingest.shared import FinishInput, IngestInput, IngestOutcome

if TYPE_CHECKING:
    from rag.server import RagServicer

log = logging.getLogger("ringside.rag.ingest")
EMBED_BATCH = 32  # chunks per embed call, upsert and heartbeat
SPECIAL_TOKENS = 2  # [CLS] and [SEP], which the model's count (and so usage) includes
NO_TEXT = "The file holds no text to index."


def _failed(code: str, message: str) -> IngestOutcome:
    return IngestOutcome("failed", 0, code, message)


class Stopped(Exception):
    """The ingest stops short: its file was cancelled, or retried or re-attached (`superseded`)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status

    def outcome(self, generation: int, tokens: int) -> IngestOutcome:
        """Superseded: another run's now. Cancelled: reported like any outcome, so the finish removes
        what this run wrote (the core keeps the file `cancelled`)."""
        if self.status == "superseded":
            return IngestOutcome("superseded")
        return IngestOutcome("failed", 0, "server_error", "cancelled", generation=generation, embedding_tokens=tokens)


class IngestActivities:
    def __init__(
        self,
        core: CoreClient,
        rag: RagServicer,
        files: FileStore,
        parse_cache: pathlib.Path,
        embedding: IngestEmbedding,
        vision_model: str = "",
        transcription_model: str = "",
    ) -> None:
        self._core = core
        self._holds = IngestHolds(core)
        self._rag = rag
        self._files = files
        self._cache = parse_cache
        # Counts in the local model's word pieces (API.md: the model's own tokenizer where it is
        # available offline; for another model its window bounds the chunk, and OpenAI's 800/400 fits).
        self._chunker = Chunker(rag.embedder.tokenizer)
        self._embedding = embedding  # the store's model: local here, any other through its provider
        # Parsing is CPU-bound native and Python code: one document at a time, off the event loop.
        self._parse_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="rag-parse")
        self._reembedder = Reembedder(core, rag, load_catalog(), embedding)
        self._media = MediaReader(core, load_catalog(), vision_model, transcription_model, embedding.provider_for)

    def migration_activities(self) -> MigrationActivities:
        """Issue 17's migration activities, over this role's parse cache, model and index."""

        async def drop(name: str) -> None:
            await self._rag.on_index(self._rag.indexes.drop, name)

        async def delete_file(name: str, file_id: str) -> None:
            with contextlib.suppress(IndexNotFoundError):
                await self._rag.on_index(self._rag.indexes.delete_file, name, file_id)

        return MigrationActivities(self._core, self._reembedder, self.text_of, drop, delete_file)

    def rebuilder(self, marker: pathlib.Path) -> Rebuilder:
        """The index's rebuild after a restore (issue 27), over this role's parse cache, model and index."""
        return Rebuilder(self._core, self._reembedder, self.text_of, marker)

    def all_activities(self) -> list[Any]:
        """Every activity the rag role's worker runs: the ingest's and the migration's."""
        migrations = self.migration_activities()
        return [
            self.ingest,
            self.finish,
            migrations.embed,
            migrations.settle_hold,
            migrations.finish,
            migrations.drop,
            migrations.retire,
        ]

    async def _text(self, job: pb.IngestJobResponse, done: int) -> str:
        """The file's text: parsed, or for an image or audio read through the configured model
        (a metered call); either way kept in the parse cache, which a migration re-embeds from.
        The read's hold rides in the heartbeat (after `done`, what a retry resumes after) until it is
        settled: raises RingsideError while the core cannot record it, and the next attempt settles
        it first (the text cached: not read, nor paid, again)."""
        try:
            return await self.text_of(job.file.file_id, job.filename, job.sha256)
        except IngestError as error:
            if error.code != "unsupported_file":
                raise
            data = await asyncio.to_thread(self._files.read_bytes, job.file.file_id)
            kind = media_kind(job.filename, data[:4096])
            if kind is None:
                raise
        payer = Payer(job.file.key_id, job.store.customer_id, job.store.livemode)
        hold = OpenHold(self._core, done)
        try:
            text = await self._media.text_of(kind, data, job.filename, payer, hold)
        except IngestError:
            await hold.settle(metering_pb2.SETTLE_OUTCOME_FAILED)  # the file fails; its hold does not linger
            raise
        await self._off_loop(self._cache_text, job.filename, job.sha256, text)
        await hold.settle_open()
        return text

    def _cache_text(self, filename: str, sha256: str, text: str) -> None:
        cached = self._cached(filename, sha256)
        cached.parent.mkdir(parents=True, exist_ok=True)
        partial = cached.with_name(cached.name + ".partial")
        partial.write_text(text, encoding="utf-8")
        partial.replace(cached)

    def _cached(self, filename: str, sha256: str) -> pathlib.Path:
        suffix = pathlib.PurePath(filename).suffix.lower()[:16]
        return self._cache / sha256[:2] / f"{sha256}{suffix}.txt"

    async def text_of(self, file_id: str, filename: str, sha256: str) -> str:
        """The file's text from the parse cache (parsed only if the cache lost it)."""
        text: str = await self._off_loop(self._parse, file_id, filename, sha256)
        return text

    def close(self) -> None:
        self._parse_executor.shutdown(wait=True)

    async def _off_loop(self, function: Any, *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._parse_executor, function, *args)

    def _parse(self, file_id: str, filename: str, sha256: str) -> str:
        """The file's text; parsed once per content and name suffix (the migration re-embeds from it)."""
        cached = self._cached(filename, sha256)
        if cached.exists():
            return cached.read_text(encoding="utf-8")
        text = parse_document(self._files.read_bytes(file_id), filename).text
        self._cache_text(filename, sha256, text)
        return text

    @activity.defn(name="rag_ingest_file")
    async def ingest(self, request: IngestInput) -> IngestOutcome:
        details = activity.info().heartbeat_details
        done = resumes_after(details)
        await self._holds.settle_previous(details)
        try:
            job = await self._core.internal(
                self._core.vector_stores.GetIngestJob,
                pb.IngestJobRequest(store_id=request.store_id, file_id=request.file_id),
            )
        except RingsideError as error:
            if error.code == "not_found":
                return IngestOutcome("gone")
            raise
        store, attached = job.store, job.file
        if attached.attach_id != request.attach_id or attached.status != "in_progress":
            return IngestOutcome("superseded")  # finished already, or re-attached: not this run's
        try:
            model = self._embedding.model(store.embedding_model)
        except RingsideError as error:
            return _failed("server_error", error.message)
        try:
            text = await self._text(job, done)
            strategy = resolve_strategy(json.loads(attached.chunking_json or "null"), IngestEmbedding.window(model))
            chunks = await self._off_loop(self._chunker.chunk, text, strategy)
        except IngestError as error:
            return _failed(error.code, error.message)
        except InvalidRequestError as error:
            return _failed("server_error", f"chunking_strategy: {error.message}")
        except FileNotFoundError:
            return _failed("invalid_file", "The file's content is gone.")
        if not chunks:
            return _failed("invalid_file", NO_TEXT)
        name = index_name(store.id, store.generation)
        attributes = json.loads(attached.attributes_json or "{}")
        await self._rag.on_index(self._rag.indexes.create, name, model.dimensions or DIMENSIONS)
        rest = chunks[done:]
        spent = 0
        if rest:  # (none: an attempt that wrote every chunk failed after, e.g. at its settle)
            counted = sum(chunk.token_count + SPECIAL_TOKENS for chunk in rest)
            bound = IngestEmbedding.bound(model, [chunk.text for chunk in rest], counted)
            chosen = new_hold_id()
            heartbeat(done, chosen, 0, model.name)  # before it is asked for: an answer cut off is settled next
            try:
                admitted = await self._holds.admit(attached, store, model, bound, chosen)
            except Refused as refused:
                heartbeat(done)  # refused: no hold was placed
                return _failed("server_error", f"The embedding was refused: {refused}")
            try:
                for start in range(done, len(chunks), EMBED_BATCH):
                    batch = chunks[start : start + EMBED_BATCH]
                    spent += await self._embed_batch(request, job, model, batch, name, attributes)
                    heartbeat(start + EMBED_BATCH, admitted, spent, model.name)  # (holds.py)
                    await self._progressed(request)
            except Stopped as stopped:
                await self._holds.settle_leaving(admitted, model, spent, metering_pb2.SETTLE_OUTCOME_COMPLETED)
                return stopped.outcome(store.generation, spent)
            except RingsideError as error:
                await self._holds.settle_leaving(admitted, model, spent, metering_pb2.SETTLE_OUTCOME_FAILED)
                if error.code != "model_unavailable":
                    raise  # a core or upstream hiccup: the attempt is retried, resuming after its last batch
                return _failed("server_error", f"The embedding with {model.ref} is not available: {error.message}")
            except BaseException:
                await self._holds.settle_leaving(admitted, model, spent, metering_pb2.SETTLE_OUTCOME_FAILED)
                raise
            # unreachable through its retries: the attempt fails and the next one settles it first
            await self._holds.settle(admitted, model.name, spent, metering_pb2.SETTLE_OUTCOME_COMPLETED)
            heartbeat(len(chunks))  # settled: a retry (of what follows) pays nothing again
        if job.HasField("migration"):  # attached while a migration runs: embedded with its model too
            spent += await self._also_migrating(job, text, attributes, len(chunks))  # its own metered calls
        await self._attributes_since(request, job, name)
        used = json.dumps(strategy.to_openai())
        return IngestOutcome(
            "completed", len(chunks), generation=store.generation, chunking_json=used, embedding_tokens=spent
        )

    async def _attributes_since(self, request: IngestInput, job: pb.IngestJobResponse, name: str) -> None:
        """An attribute update answered while this ingest wrote may have missed points written after
        it (they carry the attributes read at the start): once every point is written, the row's
        attributes (read now) go on all of them. Points carry their attributes' version, and the
        index writes only over an older one: an update the core takes after this read (whose edge
        writes its newer version on every point, all written by then) is never undone by this write
        arriving later. Tested in tests/rag/test_attribute_versions.py."""
        try:
            now = await self._core.internal(
                self._core.vector_stores.GetIngestJob,
                pb.IngestJobRequest(store_id=request.store_id, file_id=request.file_id),
            )
        except RingsideError as error:
            if error.code == "not_found":
                return  # detached meanwhile: its points go with it
            raise
        if now.file.attach_id != request.attach_id or now.file.attributes_version == job.file.attributes_version:
            return
        attributes = json.loads(now.file.attributes_json or "{}")
        names = [name]
        if job.HasField("migration"):
            names.append(index_name(job.store.id, job.migration.to_generation))
        for target in names:
            with contextlib.suppress(IndexNotFoundError):
                await self._rag.on_index(
                    self._rag.indexes.set_attributes, target, request.file_id, attributes, now.file.attributes_version
                )

    async def _progressed(self, request: IngestInput) -> None:
        """Tells the core the ingest progressed (what tells it from a stalled one); raises Stopped
        once the file was cancelled, or retried or re-attached (another run's now)."""
        answer = await self._core.internal(
            self._core.vector_stores.ReportIngestProgress,
            pb.IngestProgressRequest(store_id=request.store_id, file_id=request.file_id, attach_id=request.attach_id),
        )
        if answer.status != "in_progress":
            raise Stopped(answer.status)

    async def _also_migrating(self, job: pb.IngestJobResponse, text: str, attributes: Any, chunks_done: int) -> int:
        """The file into the migration's new index too (its own metered calls, each batch's hold in
        the heartbeat after `chunks_done`, what a retry resumes after). A failure here is left to the
        migration, whose sweep re-embeds every completed file missing there; a hold the core could
        not settle fails the attempt (the next one settles it first)."""
        target = target_of(job.migration)
        hold = OpenHold(self._core, chunks_done)
        try:
            model = self._reembedder.model(target.model_ref)
            chunks, _ = self._reembedder.chunks(text, job.file.chunking_json, model)
            done = await self._reembedder.embed_file(
                target,
                job.file.file_id,
                job.filename,
                chunks,
                attributes,
                job.file.attributes_version,
                after_batch=lambda _: _beat(hold),
                hold=hold,
            )
        except IngestError as error:
            log.warning("file %s: not embedded for migration %s (%s)", job.file.file_id, job.migration.id, error.code)
            return 0
        return done.tokens

    async def _embed_batch(
        self,
        request: IngestInput,
        job: pb.IngestJobResponse,
        model: CatalogModel,
        batch: list[Chunk],
        name: str,
        attributes: Any,
    ) -> int:
        """Embeds and upserts one batch. → its tokens (the model's own count)."""
        store = job.store
        embeddings = await self._embedding.embed(model, store.livemode, [chunk.text for chunk in batch])
        points = [
            IndexPoint(
                id=chunk_id(store.id, request.file_id, store.generation, chunk.index),
                vector=vector,
                file_id=request.file_id,
                chunk_index=chunk.index,
                text=chunk.text,
                filename=job.filename,
                attributes=attributes,
                attributes_version=job.file.attributes_version,
            )
            for chunk, vector in zip(batch, embeddings.vectors, strict=True)
        ]
        await self._rag.on_index(self._rag.indexes.upsert, name, points)
        return embeddings.tokens

    @activity.defn(name="rag_finish_ingest")
    async def finish(self, finished: FinishInput) -> None:
        request, outcome = finished.request, finished.outcome
        if outcome.status == "superseded":
            return
        if outcome.status != "gone":
            try:
                answer = await self._core.internal(
                    self._core.vector_stores.FinishIngest,
                    pb.FinishIngestRequest(
                        store_id=request.store_id,
                        file_id=request.file_id,
                        attach_id=request.attach_id,
                        status=outcome.status,
                        chunk_count=outcome.chunk_count,
                        last_error_code=outcome.error_code,
                        last_error_message=outcome.error_message,
                        chunking_json=outcome.chunking_json,
                        embedding_tokens=outcome.embedding_tokens,
                    ),
                )
                if not (answer.file.status == "cancelled" and answer.file.attach_id == request.attach_id):
                    return
                # cancelled (its batch) while it ingested: what it wrote goes, as below

            except RingsideError as error:
                if error.code != "not_found":
                    raise
        # Detached, cancelled (or its store deleted) while it ingested: what this run wrote goes too.
        name = index_name(request.store_id, outcome.generation)
        with contextlib.suppress(IndexNotFoundError):
            await self._rag.on_index(self._rag.indexes.delete_file, name, request.file_id)
        log.info("file %s left store %s during its ingest; its points were removed", request.file_id, request.store_id)


async def _beat(hold: OpenHold) -> None:
    hold.beat()
