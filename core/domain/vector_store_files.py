"""Files attached to vector stores (OpenAI's `vector_store.file`, issue 16): what the core keeps of
an attachment — its ingest status, chunk count, bytes indexed, last error. The ingest itself runs in
the rag role's Temporal workflow, which reports its outcome here (DECISIONS.md 16: the core is the
only writer)."""

from __future__ import annotations

from dataclasses import dataclass

STATUSES = ("in_progress", "completed", "failed", "cancelled")
ERROR_CODES = ("unsupported_file", "invalid_file", "server_error")
MAX_ATTRIBUTES = 16  # OpenAI's bound on a store file's attributes
MAX_BATCH = 500  # OpenAI's bound on a file batch's file_ids


@dataclass(slots=True)
class VectorStoreFile:
    """A file in a store; `id` is the file's id (OpenAI's object carries the file id as its id)."""

    store_id: str
    file_id: str
    account_id: str
    livemode: bool
    customer_id: str | None  # the store's owner
    status: str
    attributes_json: str
    chunking_json: str
    chunk_count: int
    usage_bytes: int
    last_error_code: str
    last_error_message: str
    created: int
    updated: int
    attach_id: str  # `vsa_…`, new at each attach: names its ingest workflow
    batch_id: str = ""  # `vsfb_…` when attached in a file batch
    key_id: str = ""  # the attaching key: the ingest's embedding is metered as its call
    embedding_tokens: int = 0  # what its ingest's completing attempt spent embedding (a resumed one: the rest)
    # +1 at each attribute update: the file's points carry the version of their attributes, and the
    # rag role writes attributes only over an older version (a late write never undoes a newer one).
    attributes_version: int = 0


@dataclass(frozen=True, slots=True)
class VectorStoreFileUpdate:
    """A store file's status, counts and error after an ingest step or a detach (rewritten whole)."""

    row: VectorStoreFile


@dataclass(frozen=True, slots=True)
class VectorStoreFileDetach:
    """A detach: the row is deleted (a file may be attached again later)."""

    store_id: str
    file_id: str


def file_counts(rows: list[VectorStoreFile]) -> dict[str, int]:
    """OpenAI's `file_counts` of a store's live attachments."""
    counts = dict.fromkeys(STATUSES, 0)
    for row in rows:
        counts[row.status] += 1
    return {**counts, "total": len(rows)}


@dataclass(frozen=True, slots=True)
class StoreQuery:
    """One answered search of a store (its query log): who asked (`customer_id` None for the
    account), what, how long it took, what it found. Kept RINGSIDE_RETENTION_RAG_QUERIES_DAYS."""

    id: str
    store_id: str
    account_id: str
    livemode: bool
    customer_id: str | None
    query: str
    created: int
    latency_ms: int
    result_count: int
    top_file_ids_json: str
    embedding_tokens: int
