"""Embedding one file's text into one index generation with one model (issue 17): what a migration
does for every file of a store, and what an ingest does a second time for a file attached while a
migration runs. Resumable and idempotent: point ids are deterministic, batches are written in
order, and a retry starts after the batches the index already holds (its count for the file), so
after a crash of the rag role nothing written is embedded (or paid for) again. Each batch is its own
metered call of the key that asked, attributed to the store's owner: only embedding tokens are paid.
A batch's hold is the attempt's `OpenHold` (holds.py): in its heartbeat until settled, so one a core
could not settle is settled by the next batch, or by the next attempt, at what the batch used.

The model: the local one on the rag role's own thread; any other catalog embedding model under a
test key is the test model (its deterministic vectors, as every test-key call gets, hashed off the
event loop); under a live key its configured provider, as an ingest embeds (IngestEmbedding)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from rag.chunking import Chunk, Chunker, ChunkingStrategy, chunk_id, resolve_strategy
from rag.embedder import LOCAL_MODEL_REF, TEXT_WINDOW_TOKENS
from rag.errors import IngestError, InvalidRequestError
from rag.index import IndexNotFoundError, IndexPoint, index_name
from ringside.core.v1 import common_pb2, metering_pb2
from ringside_server.core_client import CoreClient
from ringside_server.errors import RingsideError
from ringside_server.openai.embeddings import tokens_bound
from ringside_server.providers.catalog.load import CatalogModel
from workers.rag_ingest.holds import OpenHold, Refused

if TYPE_CHECKING:
    from rag.server import RagServicer
    from workers.rag_ingest.embedding import IngestEmbedding

BATCH = 32  # chunks per embed call, upsert and metered call
DEFAULT_WINDOW = 8191  # an embedding model whose catalog entry gives no context window (OpenAI's 3-series)
REFUSALS = {"customer_budget_exceeded", "customer_wallet_empty"}


@dataclass(frozen=True)
class Target:
    """Where and with what: a store's index generation, the model, and who pays."""

    store_id: str
    generation: int
    model_ref: str
    livemode: bool
    key_id: str
    customer_id: str


@dataclass
class FileDone:
    chunks: int = 0  # the file's chunks, now all in the index
    embedded: int = 0  # of them embedded by this call (the rest were there already)
    tokens: int = 0  # what this call's embedding cost


class Reembedder:
    def __init__(
        self, core: CoreClient, rag: RagServicer, catalog: dict[str, CatalogModel], embedding: IngestEmbedding
    ) -> None:
        self._core = core
        self._embedding = embedding
        self._rag = rag
        self._catalog = catalog
        self._chunker = Chunker(rag.embedder.tokenizer)

    def model(self, ref: str) -> CatalogModel:
        model = self._catalog.get(ref)
        if model is None or model.kind != "embedding":
            raise IngestError("server_error", f"{ref} is not an embedding model of this Ringside's catalog.")
        return model

    def chunks(self, text: str, chunking_json: str, model: CatalogModel) -> tuple[list[Chunk], ChunkingStrategy]:
        """The file's chunks for `model`: the strategy the file was chunked with where the model's
        window allows it (the same chunks), else `auto` for that window (re-chunked from the parse)."""
        window = TEXT_WINDOW_TOKENS if model.ref == LOCAL_MODEL_REF else (model.context_window or DEFAULT_WINDOW)
        requested = json.loads(chunking_json or "null")
        try:
            strategy: ChunkingStrategy = resolve_strategy(requested, window)
        except InvalidRequestError:
            strategy = resolve_strategy(None, window)
        return self._chunker.chunk(text, strategy), strategy

    async def embed_file(
        self,
        target: Target,
        file_id: str,
        filename: str,
        chunks: list[Chunk],
        attributes: dict[str, Any],
        attributes_version: int,
        after_batch: Callable[[FileDone], Awaitable[None]] | None = None,
        billed: bool = True,
        hold: OpenHold | None = None,
    ) -> FileDone:
        """Writes the file's chunks not yet in the target index, batch by batch, each batch's hold in
        `hold` (the attempt's: its heartbeat carries it). Raises RingsideError while a batch's hold
        stays unsettled through a core's takeover (written: the next attempt settles it first).
        Unbilled (`billed` false: no hold, no usage) only for the rebuild of an index a restore left
        empty."""
        held = hold if hold is not None else OpenHold(self._core)
        model = self.model(target.model_ref)
        name = index_name(target.store_id, target.generation)
        written = 0
        with contextlib.suppress(IndexNotFoundError):
            written = await self._rag.on_index(self._rag.indexes.count, name, file_id)
        done = FileDone(chunks=len(chunks))
        for start in range(written // BATCH * BATCH, len(chunks), BATCH):
            batch = chunks[start : start + BATCH]
            texts = [chunk.text for chunk in batch]
            if billed:
                vectors, tokens = await self._embed_metered(target, model, texts, held)
            else:
                vectors, tokens = await self._embed(target, model, texts)
            points = [
                IndexPoint(
                    id=chunk_id(target.store_id, file_id, target.generation, chunk.index),
                    vector=vector,
                    file_id=file_id,
                    chunk_index=chunk.index,
                    text=chunk.text,
                    filename=filename,
                    attributes=attributes,
                    attributes_version=attributes_version,
                )
                for chunk, vector in zip(batch, vectors, strict=True)
            ]

            def write(dimensions: int = len(vectors[0]), points: list[IndexPoint] = points) -> None:
                self._rag.indexes.create(name, dimensions)
                self._rag.indexes.upsert(name, points)

            await self._rag.on_index(write)
            done.embedded += len(batch)
            done.tokens += tokens
            if after_batch is not None:
                await after_batch(done)
        await held.settle_open()  # a batch's the core could not record: written, paid at what it used
        return done

    async def _embed_metered(
        self, target: Target, model: CatalogModel, texts: list[str], hold: OpenHold
    ) -> tuple[list[list[float]], int]:
        """One batch as a metered call: held (once the previous batch's hold is settled), embedded,
        settled with the model's own token count. A settle the core refuses through its retries
        leaves the hold open in `hold` (the batch stands): settled by the next batch or attempt."""
        try:
            await hold.admit(
                key_id=target.key_id,
                customer_id=target.customer_id,
                model=model,
                input_tokens_bound=tokens_bound(list(texts)) + 2 * len(texts),  # ≥ 1 byte a token, + [CLS]/[SEP]
            )
        except Refused as refused:
            code = refused.code if refused.code in REFUSALS else "server_error"
            raise IngestError(code, f"The embedding was refused: {refused}") from None  # type: ignore[arg-type]
        try:
            vectors, tokens = await self._embed(target, model, texts)
        except BaseException:
            await hold.settle_leaving(metering_pb2.SETTLE_OUTCOME_FAILED)  # the call never answered: 0
            raise
        hold.used(common_pb2.TokenCounts(input_tokens=tokens))
        await hold.settle_leaving(metering_pb2.SETTLE_OUTCOME_COMPLETED)
        return vectors, tokens

    async def _embed(self, target: Target, model: CatalogModel, texts: list[str]) -> tuple[list[list[float]], int]:
        """As an ingest embeds (IngestEmbedding): the local model, the test model for a test key, else
        the configured provider."""
        try:
            embedded = await self._embedding.embed(model, target.livemode, texts)
        except RingsideError as error:
            raise IngestError("server_error", f"The embedding with {model.ref} failed: {error.message}") from error
        return embedded.vectors, embedded.tokens
