"""A vector store's query log and stats (issue 16): every answered search is logged — query, when,
latency, result count, top files, who asked — whoever asked (a customer searching a shared store
too, with its customer id); refused searches never reach here. The log and stats are the store
owner's to read (an account's shared store: the account's only). Rows are purged after
RINGSIDE_RETENTION_RAG_QUERIES_DAYS by the retention schedule. A search by, or of a store of, a
customer being erased is not logged (core/services/erasure.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import orjson

from core.domain.vector_store_files import StoreQuery
from core.domain.vector_stores import VectorStore
from core.services import vector_stores
from core.services.core import Core, Principal, require_scope
from core.services.files import asking_customer
from core.services.webhooks import read
from core.store.rag_records import store_queries
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_QUERY_CHARS = 4096
MAX_TOP_FILES = 10
MAX_LIST = 100
DEFAULT_LIST = 20
WINDOWS = {"24h": 86_400, "7d": 7 * 86_400, "30d": 30 * 86_400}
MAX_STATS_ROWS = 200_000  # the window's newest searches the stats read


async def record(
    core: Core,
    principal: Principal,
    store_id: str,
    customer_ref: str,
    query: str,
    latency_ms: int,
    result_count: int,
    top_file_ids: list[str],
    embedding_tokens: int,
) -> StoreQuery:
    require_scope(principal, "api:read", customer_bound=True)
    store = vector_stores.get(core, principal, store_id, customer_ref)  # one the asker may search
    if not 0 <= result_count <= 50 or latency_ms < 0 or embedding_tokens < 0:
        raise RingsideError("invalid_request", "result_count, latency_ms or embedding_tokens out of bounds.")
    asker = asking_customer(core, principal, customer_ref)
    row = StoreQuery(
        new_sortable_id("vsq"),
        store.id,
        store.account_id,
        store.livemode,
        asker,
        query[:MAX_QUERY_CHARS],
        core.now(),
        min(latency_ms, 86_400_000),
        result_count,
        orjson.dumps([f[:100] for f in top_file_ids[:MAX_TOP_FILES]]).decode(),
        embedding_tokens,
    )
    if _erasing(core, asker) or _erasing(core, store.customer_id):
        # An erasure is under way: its commit deletes the asker's and the store's queries, so one
        # logged now could outlive it. Not logged (the search itself was answered). This check and
        # the write's enqueue share one step of the event loop: a row enqueued before the mark
        # lands before the erasure's commit, whose deletions (and their final pass) remove it.
        return row
    await core.writer.write([row])
    return row


def _erasing(core: Core, customer_id: str | None) -> bool:
    customer = core.state.customers.get(customer_id) if customer_id else None
    return customer is not None and bool(customer.erasure)


async def list_queries(
    core: Core, principal: Principal, store_id: str, customer_ref: str, limit: int, after: str, before: str
) -> tuple[list[StoreQuery], bool]:
    store = vector_stores.get(core, principal, store_id, customer_ref, shared_ok=False)
    limit = limit or DEFAULT_LIST
    if not 1 <= limit <= MAX_LIST:
        raise RingsideError("invalid_request", f"limit must be between 1 and {MAX_LIST}.", "limit")
    if after and before:
        raise RingsideError("invalid_request", "Use after or before, not both.", "after")
    since = core.now() - core.retention.rag_queries_s
    rows = await read(store_queries, core.engine, store.id, since, limit + 1, after, before)
    if before:
        return rows[-limit:], len(rows) > limit
    return rows[:limit], len(rows) > limit


def _percentile(sorted_values: list[int], share: float) -> float:
    if not sorted_values:
        return 0.0
    rank = min(len(sorted_values) - 1, max(0, round(share * len(sorted_values) + 0.5) - 1))  # nearest rank
    return float(sorted_values[rank])


@dataclass(frozen=True, slots=True)
class StoreStats:
    store: VectorStore
    query_count: int
    latency_p50_ms: float
    latency_p95_ms: float
    zero_result_rate: float
    top_files: list[tuple[str, int]]
    embedding_tokens: int


async def stats(core: Core, principal: Principal, store_id: str, customer_ref: str, window: str) -> StoreStats:
    store = vector_stores.get(core, principal, store_id, customer_ref, shared_ok=False)
    if window not in WINDOWS:
        raise RingsideError("invalid_request", "window must be 24h, 7d or 30d.", "window")
    rows = await read(store_queries, core.engine, store.id, core.now() - WINDOWS[window], MAX_STATS_ROWS, "", "")
    latencies = sorted(r.latency_ms for r in rows)
    top: Counter[str] = Counter()
    for row in rows:
        top.update(set(orjson.loads(row.top_file_ids_json)))
    return StoreStats(
        store,
        len(rows),
        _percentile(latencies, 0.5),
        _percentile(latencies, 0.95),
        sum(1 for r in rows if r.result_count == 0) / len(rows) if rows else 0.0,
        top.most_common(MAX_TOP_FILES),
        sum(r.embedding_tokens for r in rows),
    )
