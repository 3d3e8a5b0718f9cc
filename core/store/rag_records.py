"""Statements of managed RAG's records (issue 16): files and vector stores."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, bindparam, delete, insert, select, update
from sqlalchemy.sql import Executable

from core.domain.files import FileDeletion, StoredFile
from core.domain.vector_store_files import StoreQuery, VectorStoreFile, VectorStoreFileDetach, VectorStoreFileUpdate
from core.domain.vector_stores import VectorStore, VectorStoreDeletion, VectorStoreUpdate
from core.store.tables import FILES, VECTOR_STORE_FILES, VECTOR_STORE_QUERIES, VECTOR_STORES

FILE_FIELDS = tuple(field.name for field in dataclasses.fields(StoredFile))
STORE_FIELDS = tuple(field.name for field in dataclasses.fields(VectorStore))
STORE_FILE_FIELDS = tuple(field.name for field in dataclasses.fields(VectorStoreFile))
_STORE_FILE_MUTABLE = (
    "status",
    "attributes_json",
    "attributes_version",
    "chunking_json",
    "embedding_tokens",
    "chunk_count",
    "usage_bytes",
    "last_error_code",
    "last_error_message",
    "updated",
)
# What a modify may change (the rest is fixed at create, or has writes of its own).
_STORE_MUTABLE = ("name", "metadata_json", "expires_after_days", "shared", "generation", "last_active_at")

STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    StoredFile: (insert(FILES), lambda r: dataclasses.asdict(r)),
    FileDeletion: (
        update(FILES).where(FILES.c.id == bindparam("b_id")).values(deleted_at=bindparam("b_deleted_at")),
        lambda r: {"b_id": r.file_id, "b_deleted_at": r.deleted_at},
    ),
    VectorStore: (insert(VECTOR_STORES), lambda r: dataclasses.asdict(r)),
    VectorStoreUpdate: (
        update(VECTOR_STORES)
        .where(VECTOR_STORES.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in _STORE_MUTABLE}),
        lambda r: {"b_id": r.store.id, **{f"b_{name}": getattr(r.store, name) for name in _STORE_MUTABLE}},
    ),
    VectorStoreDeletion: (
        update(VECTOR_STORES)
        .where(VECTOR_STORES.c.id == bindparam("b_id"))
        .values(deleted_at=bindparam("b_deleted_at")),
        lambda r: {"b_id": r.store_id, "b_deleted_at": r.deleted_at},
    ),
    VectorStoreFile: (insert(VECTOR_STORE_FILES), lambda r: dataclasses.asdict(r)),
    VectorStoreFileUpdate: (
        update(VECTOR_STORE_FILES)
        .where(VECTOR_STORE_FILES.c.store_id == bindparam("b_store_id"))
        .where(VECTOR_STORE_FILES.c.file_id == bindparam("b_file_id"))
        .values({name: bindparam(f"b_{name}") for name in _STORE_FILE_MUTABLE}),
        lambda r: {
            "b_store_id": r.row.store_id,
            "b_file_id": r.row.file_id,
            **{f"b_{name}": getattr(r.row, name) for name in _STORE_FILE_MUTABLE},
        },
    ),
    VectorStoreFileDetach: (
        delete(VECTOR_STORE_FILES)
        .where(VECTOR_STORE_FILES.c.store_id == bindparam("b_store_id"))
        .where(VECTOR_STORE_FILES.c.file_id == bindparam("b_file_id")),
        lambda r: {"b_store_id": r.store_id, "b_file_id": r.file_id},
    ),
    StoreQuery: (insert(VECTOR_STORE_QUERIES), lambda r: dataclasses.asdict(r)),
}


def store_queries(engine: Engine, store_id: str, since: int, limit: int, after: str, before: str) -> list[StoreQuery]:
    """A store's queries made since `since`, newest first (`after`/`before`: id cursors), ≤ limit."""
    q = VECTOR_STORE_QUERIES.c
    selected = select(VECTOR_STORE_QUERIES).where(q.store_id == store_id, q.created >= since)
    if after:
        selected = selected.where(q.id < after).order_by(q.id.desc())
    elif before:
        selected = selected.where(q.id > before).order_by(q.id.asc())
    else:
        selected = selected.order_by(q.id.desc())
    with engine.connect() as connection:
        rows = [StoreQuery(**dict(row)) for row in connection.execute(selected.limit(limit)).mappings()]
    return sorted(rows, key=lambda r: r.id, reverse=True)
