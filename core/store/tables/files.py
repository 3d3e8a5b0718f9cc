"""Files and the vector stores built from them: attachments, the query log and re-embed migrations."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Table, Text
from sqlmodel import Field, SQLModel


class FileRow(SQLModel, table=True):
    """A file's metadata (`file-…`, issue 16); its bytes are in the file store, not here."""

    __tablename__ = "files"

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, index=True, max_length=64)
    filename: str = Field(max_length=512)
    purpose: str = Field(max_length=32)
    bytes: int = Field(sa_type=BigInteger)
    sha256: str = Field(max_length=64)
    created: int = Field(sa_type=BigInteger)
    deleted_at: int | None = Field(default=None, sa_type=BigInteger)


class VectorStoreRow(SQLModel, table=True):
    """A vector store (`vs_…`, issue 16); its index lives in the rag role, one per generation."""

    __tablename__ = "vector_stores"

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, index=True, max_length=64)
    name: str = Field(max_length=256)
    embedding_model: str = Field(max_length=300)
    embedding_model_requested: str = Field(max_length=300)
    chunking_json: str = Field(sa_column=Column(Text, nullable=False))
    metadata_json: str = Field(sa_column=Column(Text, nullable=False))
    expires_after_days: int | None = None
    shared: bool = False
    generation: int = Field(default=0, sa_type=BigInteger)
    created: int = Field(sa_type=BigInteger)
    last_active_at: int = Field(sa_type=BigInteger)
    deleted_at: int | None = Field(default=None, sa_type=BigInteger)


class VectorStoreFileRow(SQLModel, table=True):
    """A file attached to a vector store (issue 16): its ingest status, chunks and last error."""

    __tablename__ = "vector_store_files"

    store_id: str = Field(primary_key=True, max_length=64)
    file_id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, index=True, max_length=64)
    status: str = Field(max_length=16)
    attributes_json: str = Field(sa_column=Column(Text, nullable=False))
    chunking_json: str = Field(sa_column=Column(Text, nullable=False))
    chunk_count: int = Field(default=0, sa_type=BigInteger)
    usage_bytes: int = Field(default=0, sa_type=BigInteger)
    last_error_code: str = Field(default="", max_length=32)
    last_error_message: str = Field(sa_column=Column(Text, nullable=False))
    created: int = Field(sa_type=BigInteger)
    updated: int = Field(sa_type=BigInteger)
    attach_id: str = Field(max_length=64)
    batch_id: str = Field(default="", max_length=64)
    key_id: str = Field(default="", max_length=64)
    embedding_tokens: int = Field(default=0, sa_type=BigInteger)
    attributes_version: int = Field(default=0, sa_type=BigInteger)


class VectorStoreQueryRow(SQLModel, table=True):
    """One answered search of a vector store (its query log, issue 16), purged after its retention."""

    __tablename__ = "vector_store_queries"

    id: str = Field(primary_key=True, max_length=64)
    store_id: str = Field(index=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, max_length=64)
    query: str = Field(sa_column=Column(Text, nullable=False))
    created: int = Field(index=True, sa_type=BigInteger)
    latency_ms: int = Field(sa_type=BigInteger)
    result_count: int
    top_file_ids_json: str = Field(sa_column=Column(Text, nullable=False))
    embedding_tokens: int = Field(sa_type=BigInteger)


class VectorStoreMigrationRow(SQLModel, table=True):
    """A re-embed migration of a vector store (`vsmig_…`, issue 17): its models, generations, progress
    and rollback window."""

    __tablename__ = "vector_store_migrations"

    id: str = Field(primary_key=True, max_length=64)
    store_id: str = Field(index=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, max_length=64)
    status: str = Field(max_length=16)
    from_model: str = Field(max_length=300)
    to_model: str = Field(max_length=300)
    to_model_requested: str = Field(max_length=300)
    from_model_requested: str = Field(max_length=300)
    from_generation: int = Field(sa_type=BigInteger)
    to_generation: int = Field(sa_type=BigInteger)
    key_id: str = Field(default="", max_length=64)
    created: int = Field(sa_type=BigInteger)
    updated: int = Field(sa_type=BigInteger)
    completed_at: int | None = Field(default=None, sa_type=BigInteger)
    rollback_until: int | None = Field(default=None, sa_type=BigInteger)
    files_total: int = Field(default=0, sa_type=BigInteger)
    files_done: int = Field(default=0, sa_type=BigInteger)
    chunks_done: int = Field(default=0, sa_type=BigInteger)
    embedding_tokens: int = Field(default=0, sa_type=BigInteger)
    last_error_code: str = Field(default="", max_length=32)
    last_error_message: str = Field(sa_column=Column(Text, nullable=False))
    retired: bool = False


# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
FILES: Table = FileRow.__table__  # type: ignore[attr-defined]
VECTOR_STORES: Table = VectorStoreRow.__table__  # type: ignore[attr-defined]
VECTOR_STORE_FILES: Table = VectorStoreFileRow.__table__  # type: ignore[attr-defined]
VECTOR_STORE_QUERIES: Table = VectorStoreQueryRow.__table__  # type: ignore[attr-defined]
VECTOR_STORE_MIGRATIONS: Table = VectorStoreMigrationRow.__table__  # type: ignore[attr-defined]
