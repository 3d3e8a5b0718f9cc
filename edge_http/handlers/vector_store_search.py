"""/v1/vector_stores/{id}/search, …/queries and …/stats (issue 16): a store's search — through
ringside_server/vector_search.py's `search_stores`, which the file_search tool calls too — and its
query log and stats (the store's owner only; anything else is 404)."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from edge_http.context import EDGE
from edge_http.handlers.common import authorization, fc_customer, json_response, openai_list, reject
from edge_http.handlers.metered import caller_of
from edge_http.handlers.vector_store_files import store_id_of
from edge_http.handlers.vector_stores import render
from edge_http.openai.jsonio import parse_object
from edge_http.rag import stores as wire
from ringside.core.v1 import metering_pb2
from ringside.core.v1 import vector_stores_pb2 as pb
from ringside_server.errors import RingsideError
from ringside_server.vector_search import search_stores

SEARCH_FIELDS = frozenset({"query", "max_num_results", "filters", "ranking_options", "rewrite_query"})
RANKERS = ("auto", "default-2024-11-15", "none")


def _search_body(body: dict[str, Any]) -> tuple[int, dict[str, Any] | None, float | None]:
    """max_num_results (default 10), filters, ranking_options.score_threshold — OpenAI's bounds."""
    wire.refuse_unknown(body, SEARCH_FIELDS)
    limit = body.get("max_num_results", 10)
    if not isinstance(limit, int) or isinstance(limit, bool):
        raise RingsideError("invalid_request", "max_num_results must be an integer 1..50.", "max_num_results")
    filters = body.get("filters")
    if filters is not None and not isinstance(filters, dict):
        raise RingsideError("invalid_request", "filters must be a comparison or compound filter.", "filters")
    if not isinstance(body.get("rewrite_query", False), bool):
        raise RingsideError("invalid_request", "rewrite_query must be a boolean.", "rewrite_query")
    ranking = body.get("ranking_options") or {}
    threshold = ranking.get("score_threshold") if isinstance(ranking, dict) else None
    if (
        not isinstance(ranking, dict)
        or set(ranking) - {"ranker", "score_threshold"}
        or ranking.get("ranker", "auto") not in RANKERS
        or (threshold is not None and (isinstance(threshold, bool) or not isinstance(threshold, int | float)))
        or (threshold is not None and not 0 <= threshold <= 1)
    ):
        raise RingsideError(
            "invalid_request",
            'ranking_options must be {"ranker": "auto"|"default-2024-11-15"|"none", "score_threshold": 0..1}.',
            "ranking_options",
        )
    return limit, filters, float(threshold) if threshold is not None else None


async def search(request: web.Request) -> web.Response:
    """POST /v1/vector_stores/{id}/search → `vector_store.search_results.page`."""
    edge = request.app[EDGE]
    header = authorization(request)
    body = parse_object(await request.read())
    limit, filters, threshold = _search_body(body)
    query = body.get("query")
    if not isinstance(query, str | list):
        raise RingsideError("invalid_request", "query must be a string or an array of strings.", "query")
    found = await search_stores(
        edge, caller_of(edge, request), header, [store_id_of(request)], query, limit, filters, threshold
    )
    if isinstance(found, metering_pb2.Denial):
        return reject(request, found)
    page = {
        "object": "vector_store.search_results.page",
        "search_query": [query] if isinstance(query, str) else query,
        "data": [
            {
                "file_id": hit.file_id,
                "filename": hit.filename,
                "score": hit.score,
                "attributes": hit.attributes,
                "content": [{"type": "text", "text": hit.text}],
            }
            for hit in found.hits
        ],
        "has_more": False,
        "next_page": None,
    }
    return json_response(page)


async def list_queries(request: web.Request) -> web.Response:
    """GET /v1/vector_stores/{id}/queries: the store's query log, newest first (its owner only)."""
    edge = request.app[EDGE]
    query = request.query
    await edge.query_log.drain()  # this edge's searches answered so far are in the log
    listed = await edge.core.as_caller(
        edge.core.vector_stores.ListQueries,
        pb.ListQueriesRequest(
            store_id=store_id_of(request),
            customer_ref=fc_customer(request),
            limit=wire.limit_of(query.get("limit", "")),
            after=query.get("after", "")[:100],
            before=query.get("before", "")[:100],
        ),
        authorization(request),
    )
    data = [
        {
            "id": q.id,
            "object": "vector_store.query",
            "created_at": q.created,
            "query": q.query,
            "latency_ms": q.latency_ms,
            "result_count": q.result_count,
            "top_file_ids": list(q.top_file_ids),
            "embedding_tokens": q.embedding_tokens,
            "customer_id": q.customer_id or None,
        }
        for q in listed.queries
    ]
    return web.Response(body=openai_list(data, listed.has_more), content_type="application/json")


async def stats(request: web.Request) -> web.Response:
    """GET /v1/vector_stores/{id}/stats?window=24h|7d|30d (its owner only)."""
    edge = request.app[EDGE]
    window = request.query.get("window", "24h")[:10]
    await edge.query_log.drain()
    found = await edge.core.as_caller(
        edge.core.vector_stores.GetStoreStats,
        pb.StoreStatsRequest(store_id=store_id_of(request), customer_ref=fc_customer(request), window=window),
        authorization(request),
    )
    store = render(found.store)
    return json_response(
        {
            "object": "vector_store.stats",
            "vector_store_id": found.store.id,
            "window": window,
            "query_count": found.query_count,
            "latency_p50_ms": found.latency_p50_ms,
            "latency_p95_ms": found.latency_p95_ms,
            "zero_result_rate": found.zero_result_rate,
            "top_files": [{"file_id": f.file_id, "count": f.count} for f in found.top_files],
            "file_counts": store["file_counts"],
            "chunk_count": found.chunks_completed,
            "usage_bytes": store["usage_bytes"],
            "query_embedding_tokens": found.embedding_tokens,
            "ingest_embedding_tokens": found.ingest_embedding_tokens,
        }
    )
