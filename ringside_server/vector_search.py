"""Searching vector stores (issue 16): the one function `POST /v1/vector_stores/{id}/search`, the
Responses API's `file_search` tool and an Assistants run's `file_search` (in the worker) call.

The query is embedded with the store's pinned model through MeteredCall, like any embeddings call,
so it is admitted and metered to the asker (FC-Customer or a Client Token's customer, else the
account); the rag role then searches each store's live index with that vector. A store the caller
may not see is 404 before anything is metered; a customer may search the account's shared stores.
The edge and the worker never load the model: they hold the rag role's gRPC client only."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from ringside.core.v1 import metering_pb2
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside.rag.v1 import rag_pb2
from ringside_server.core_client import ActingKey
from ringside_server.errors import RingsideError
from ringside_server.metering.call import MeteredCall
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Caller, MeteredRequest
from ringside_server.openai.embeddings import tokens_bound

log = logging.getLogger("ringside.search")
MAX_RESULTS = 50
MAX_STORES = 10
MAX_QUERIES = 10
MAX_QUERY_CHARS = 4096
MAX_FILTERS_BYTES = 64 * 1024
SEARCH_TIMEOUT_S = 30.0


@dataclass(frozen=True, slots=True)
class SearchHit:
    """One chunk found: its file, its similarity (cosine, higher is closer) and its text."""

    store_id: str
    file_id: str
    filename: str
    score: float
    attributes: dict[str, Any]
    text: str
    chunk_index: int


@dataclass(slots=True)
class SearchResult:
    """The hits, best first, and what the query embedding cost (tokens, metered to the asker)."""

    hits: list[SearchHit] = field(default_factory=list)
    query_tokens: int = 0


async def search_stores(
    gateway: Gateway,
    caller: Caller,
    authorization: str | ActingKey,
    store_ids: list[str],
    query: str | list[str],
    max_results: int = 10,
    filters: dict[str, Any] | None = None,
    score_threshold: float | None = None,
) -> SearchResult | metering_pb2.Denial:
    """Search `store_ids` (each visible to the caller, else RingsideError not_found) for `query`;
    a Denial when the caller's budget, wallet or limits refuse the query's embedding.

    `authorization` is the caller's header for the core (`Bearer sk_…` or `Client …`), `caller` the
    metering caller (edge_http.handlers.metered.caller_of). `filters` is OpenAI's comparison or
    compound filter on attributes (checked by the rag role: 400 `invalid_request`, param filters)."""
    texts = [query] if isinstance(query, str) else list(query)
    if not texts or len(texts) > MAX_QUERIES or not all(isinstance(t, str) and t.strip() for t in texts):
        raise RingsideError(
            "invalid_request", f"query must be a non-empty string or 1..{MAX_QUERIES} of them.", "query"
        )
    if any(len(t) > MAX_QUERY_CHARS for t in texts):
        raise RingsideError("invalid_request", f"query is at most {MAX_QUERY_CHARS} characters.", "query")
    if not 1 <= max_results <= MAX_RESULTS:
        raise RingsideError("invalid_request", f"max_num_results must be 1..{MAX_RESULTS}.", "max_num_results")
    if not 1 <= len(store_ids) <= MAX_STORES:
        raise RingsideError("invalid_request", f"Search 1..{MAX_STORES} vector stores at once.", "vector_store_ids")
    filters_json = orjson.dumps(filters).decode() if filters is not None else ""
    if len(filters_json) > MAX_FILTERS_BYTES:
        raise RingsideError("invalid_request", "filters is too large.", "filters")
    started = time.monotonic()
    stores = [
        (
            await gateway.core.as_caller(
                gateway.core.vector_stores.GetVectorStore,
                pb.GetVectorStoreRequest(id=store_id[:100], customer_ref=caller.customer_ref),
                authorization,
            )
        ).store
        for store_id in store_ids
    ]
    if gateway.rag is None:
        raise RingsideError("model_unavailable", "The rag role is not configured.")
    result = SearchResult()
    vectors: dict[str, list[float]] = {}  # by embedding model: stores of one model share the query's vector
    for store in stores:
        if store.embedding_model not in vectors:
            embedded = await _embed(gateway, caller, store.embedding_model, "\n".join(texts))
            if isinstance(embedded, metering_pb2.Denial):
                return embedded
            vectors[store.embedding_model], tokens = embedded
            result.query_tokens += tokens
        request = rag_pb2.SearchRequest(
            index=rag_pb2.IndexRef(store_id=store.id, generation=store.generation),
            vector=vectors[store.embedding_model],
            max_num_results=max_results,
            filters_json=filters_json,
        )
        if score_threshold is not None:
            request.score_threshold = score_threshold
        try:
            found = await gateway.rag.call(gateway.rag.stub.Search, request, timeout_s=SEARCH_TIMEOUT_S)
        except RingsideError as error:
            if error.code == "invalid_request":
                raise RingsideError("invalid_request", error.message, "filters") from None
            if error.code == "not_found":
                continue  # nothing ingested into this store yet
            raise
        result.hits += [
            SearchHit(
                store.id,
                hit.file_id,
                hit.filename,
                hit.score,
                orjson.loads(hit.attributes_json or "{}"),
                hit.text,
                hit.chunk_index,
            )
            for hit in found.hits
        ]
    result.hits.sort(key=lambda hit: hit.score, reverse=True)
    del result.hits[max_results:]
    latency_ms = round((time.monotonic() - started) * 1000)
    for store in stores:  # off the response path: the answer does not wait on the core's commit
        await gateway.query_log.start(
            _log(gateway, caller, authorization, store.id, "\n".join(texts), latency_ms, result)
        )
    return result


async def _log(
    gateway: Gateway,
    caller: Caller,
    authorization: str | ActingKey,
    store_id: str,
    query: str,
    latency_ms: int,
    result: SearchResult,
) -> None:
    """The store's query log gets the answered search (a failed write is logged, not the caller's error;
    it runs after the answer, through gateway.query_log, which reads of the log drain first)."""
    mine = [hit for hit in result.hits if hit.store_id == store_id]
    try:
        await gateway.core.as_caller(
            gateway.core.vector_stores.RecordQuery,
            pb.RecordQueryRequest(
                store_id=store_id,
                customer_ref=caller.customer_ref,
                query=query[:MAX_QUERY_CHARS],
                latency_ms=latency_ms,
                result_count=len(mine),
                top_file_ids=list(dict.fromkeys(hit.file_id for hit in mine))[:10],
                embedding_tokens=result.query_tokens,
            ),
            authorization,
        )
    except RingsideError as error:
        log.warning("search of %s answered; its query log entry was not written: %s", store_id, error.code)


async def _embed(
    gateway: Gateway, caller: Caller, model_ref: str, text: str
) -> tuple[list[float], int] | metering_pb2.Denial:
    """The query's vector with the store's model, as a metered embeddings call of the asker."""
    body = {"model": model_ref, "input": [text], "encoding_format": "float"}
    bound = tokens_bound([text])
    wanted = MeteredRequest(
        route="embeddings",
        body=body,
        model_ref=model_ref,
        input_tokens_bound=lambda model: bound,
        model_kind="embedding",
    )
    call = await MeteredCall.prepare(gateway, caller, wanted)
    answer = await call.run()
    if isinstance(answer, metering_pb2.Denial):
        return answer
    if answer.status != 200 or answer.relay is not None:
        raise RingsideError("model_unavailable", f"The query could not be embedded with {model_ref}.", "query")
    parsed = orjson.loads(answer.body)
    return list(parsed["data"][0]["embedding"]), int(parsed.get("usage", {}).get("prompt_tokens", 0))
