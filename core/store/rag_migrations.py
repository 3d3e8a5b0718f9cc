"""Statements of RAG operations (issue 17): the migration rows, the swap/rollback that flips a
store's model and live generation in the same commit, and a retried ingest's new attach."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, insert, update
from sqlalchemy.sql import Executable

from core.domain.vector_store_migrations import VectorStoreMigration, VectorStoreMigrationUpdate
from core.store.tables import VECTOR_STORE_FILES, VECTOR_STORE_MIGRATIONS, VECTOR_STORES

MIGRATION_FIELDS = tuple(field.name for field in dataclasses.fields(VectorStoreMigration))
_MUTABLE = tuple(name for name in MIGRATION_FIELDS if name not in ("id", "store_id", "account_id", "livemode"))


@dataclass(frozen=True, slots=True)
class VectorStoreSwap:
    """The store's embedding model and live index generation, switched together (swap or rollback)."""

    store_id: str
    embedding_model: str
    embedding_model_requested: str
    generation: int


@dataclass(frozen=True, slots=True)
class VectorStoreFileRestart:
    """A retried ingest: a new attach id, `in_progress` again, the last error cleared."""

    store_id: str
    file_id: str
    attach_id: str
    updated: int


STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    VectorStoreMigration: (insert(VECTOR_STORE_MIGRATIONS), lambda r: dataclasses.asdict(r)),
    VectorStoreMigrationUpdate: (
        update(VECTOR_STORE_MIGRATIONS)
        .where(VECTOR_STORE_MIGRATIONS.c.id == bindparam("b_id"))
        .values({name: bindparam(f"b_{name}") for name in _MUTABLE}),
        lambda r: {"b_id": r.migration.id, **{f"b_{name}": getattr(r.migration, name) for name in _MUTABLE}},
    ),
    VectorStoreSwap: (
        update(VECTOR_STORES)
        .where(VECTOR_STORES.c.id == bindparam("b_id"))
        .values(
            embedding_model=bindparam("b_model"),
            embedding_model_requested=bindparam("b_requested"),
            generation=bindparam("b_generation"),
        ),
        lambda r: {
            "b_id": r.store_id,
            "b_model": r.embedding_model,
            "b_requested": r.embedding_model_requested,
            "b_generation": r.generation,
        },
    ),
    VectorStoreFileRestart: (
        update(VECTOR_STORE_FILES)
        .where(VECTOR_STORE_FILES.c.store_id == bindparam("b_store_id"))
        .where(VECTOR_STORE_FILES.c.file_id == bindparam("b_file_id"))
        .values(
            attach_id=bindparam("b_attach_id"),
            status="in_progress",
            chunk_count=0,
            usage_bytes=0,
            embedding_tokens=0,
            last_error_code="",
            last_error_message="",
            updated=bindparam("b_updated"),
        ),
        lambda r: {
            "b_store_id": r.store_id,
            "b_file_id": r.file_id,
            "b_attach_id": r.attach_id,
            "b_updated": r.updated,
        },
    ),
}
