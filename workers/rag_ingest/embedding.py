"""How an ingest embeds its chunks with the store's pinned model: the local model in this process
(the rag role's own ONNX session), any other model through its provider — the same provider objects
and test-mode rule as a metered call (`Gateway.provider_for`: a test key's store is served by the
test model, deterministically; a live one by the configured provider, else `model_unavailable`).
Admission and settlement stay the ingest activity's (one hold per attempt, to the store's owner)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import orjson

from rag.embedder import LOCAL_MODEL_REF, TEXT_WINDOW_TOKENS
from ringside_server.errors import RingsideError
from ringside_server.metering.gateway import Gateway
from ringside_server.openai.embeddings import tokens_bound
from ringside_server.providers import capabilities
from ringside_server.providers.base import Provider
from ringside_server.providers.catalog.load import CatalogModel

if TYPE_CHECKING:
    from rag.server import RagServicer

MAX_ANSWER_BYTES = 64 * 1024 * 1024  # 32 chunks of a 3072-d model as JSON floats fit well inside
# A chunk counted in the local model's word pieces is bounded by the model's window; OpenAI's models
# read 8191 tokens, and the catalog's context_window says so where it is known.
DEFAULT_REMOTE_WINDOW = 4096  # OpenAI's largest static chunk: within every embedding model's window


@dataclass(frozen=True, slots=True)
class Embedded:
    vectors: list[list[float]]
    tokens: int  # what the model counted (the provider's usage; the local model's word pieces)


class IngestEmbedding:
    def __init__(self, rag: RagServicer, gateway: Gateway) -> None:
        self._rag = rag
        self._gateway = gateway

    def model(self, ref: str) -> CatalogModel:
        """The store's pinned model (an `fc:` ref resolved at create); server_error when the catalog
        lost it since (an operator file changed)."""
        model = self._gateway.refs.models.get(ref)
        if model is None:
            raise RingsideError("model_unavailable", f"{ref} is not in this Ringside's catalog.")
        return model

    def provider_for(self, model: CatalogModel, livemode: bool) -> Provider:
        """The provider a metered call of `model` in this mode goes to (the test-mode rule included)."""
        return self._gateway.provider_for(model, livemode)

    @staticmethod
    def window(model: CatalogModel) -> int:
        """The most tokens of text one chunk may hold for this model."""
        if model.ref == LOCAL_MODEL_REF:
            return TEXT_WINDOW_TOKENS
        return min(model.context_window or DEFAULT_REMOTE_WINDOW, DEFAULT_REMOTE_WINDOW)

    @staticmethod
    def bound(model: CatalogModel, texts: list[str], counted: int) -> int:
        """The input tokens to hold for `texts`: the local model's own count, else a token per byte."""
        return counted if model.ref == LOCAL_MODEL_REF else tokens_bound(list(texts))

    async def embed(self, model: CatalogModel, livemode: bool, texts: list[str]) -> Embedded:
        if model.ref == LOCAL_MODEL_REF:
            local = await self._rag.embed(texts)
            return Embedded([vector.tolist() for vector in local.vectors], sum(local.token_counts))
        provider = self.provider_for(model, livemode)
        body = {"model": model.name, "input": texts, "encoding_format": "float"}
        if livemode:
            status, raw = await sent(provider, body)
        else:  # the test model: hashing a batch into 3072-d vectors is CPU work, kept off the event loop
            status, raw = await asyncio.get_running_loop().run_in_executor(None, asyncio.run, sent(provider, body))
        if status != 200:
            raise RingsideError("upstream_error", f"{model.ref} answered {status} to the ingest's embedding.")
        answer = orjson.loads(raw)
        rows = sorted(answer["data"], key=lambda row: row["index"])
        if len(rows) != len(texts):
            raise RingsideError("upstream_error", f"{model.ref} answered {len(rows)} vectors for {len(texts)} chunks.")
        usage = answer.get("usage") or {}
        return Embedded([list(map(float, row["embedding"])) for row in rows], int(usage.get("prompt_tokens", 0)))


async def sent(provider: Provider, body: dict[str, Any], route: capabilities.Route = "embeddings") -> tuple[int, bytes]:
    """The provider's status and (bounded) answer to `body` on `route`."""
    upstream = await capabilities.send(provider, route, body)
    try:
        return upstream.status, await upstream.read(MAX_ANSWER_BYTES)
    finally:
        upstream.close()
