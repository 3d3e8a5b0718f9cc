"""OpenAI API objects Ringside keeps: stored Responses, Assistants objects and batches."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text
from sqlmodel import Field, SQLModel


class StoredResponseRow(SQLModel, table=True):
    """A Responses API response kept for `previous_response_id` and GET /v1/responses/:id, its
    request's input items beside it: JSON text as made (never jsonb, so escapes stay intact)."""

    __tablename__ = "stored_responses"
    __table_args__ = (Index("ix_stored_responses_customer", "account_id", "livemode", "customer_id"),)

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    customer_id: str = Field(default="", max_length=64)
    previous_response_id: str = Field(default="", max_length=64)
    response_json: str = Field(sa_column=Column(Text, nullable=False))
    input_json: str = Field(sa_column=Column(Text, nullable=False))
    created: int = Field(sa_type=BigInteger, index=True)


class AssistantObjectRow(SQLModel, table=True):
    """An Assistants API object (assistant, thread, message, run): its OpenAI JSON as made and
    Ringside's private state of it, JSON text (never jsonb, so escapes stay intact)."""

    __tablename__ = "assistant_objects"
    __table_args__ = (
        Index("ix_assistant_objects_tenant", "account_id", "livemode", "kind", "position"),
        Index("ix_assistant_objects_parent", "parent_id", "position"),
    )

    id: str = Field(primary_key=True, max_length=64)
    kind: str = Field(max_length=16)
    account_id: str = Field(max_length=64)
    livemode: bool
    customer_id: str = Field(default="", max_length=64, index=True)
    parent_id: str = Field(default="", max_length=64)
    status: str = Field(default="", max_length=32, index=True)
    body_json: str = Field(sa_column=Column(Text, nullable=False))
    private_json: str = Field(sa_column=Column(Text, nullable=False))
    created: int = Field(sa_type=BigInteger, index=True)
    position: int = Field(sa_type=BigInteger)
    key_id: str = Field(default="", max_length=64)


class BatchRow(SQLModel, table=True):
    """A batch (`batch_…`, issue 19); its lines are in its input file, its results in its files."""

    __tablename__ = "batches"

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, index=True, max_length=64)
    key_id: str = Field(max_length=64)
    endpoint: str = Field(max_length=64)
    input_file_id: str = Field(max_length=64)
    completion_window: str = Field(max_length=16)
    status: str = Field(max_length=16)
    metadata_json: str = Field(sa_column=Column(Text, nullable=False))
    total: int = Field(sa_type=BigInteger)
    created: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger)
    in_progress_at: int = Field(default=0, sa_type=BigInteger)
    completed: int = Field(default=0, sa_type=BigInteger)
    failed: int = Field(default=0, sa_type=BigInteger)
    output_file_id: str = Field(default="", max_length=64)
    error_file_id: str = Field(default="", max_length=64)
    errors_json: str = Field(sa_column=Column(Text, nullable=False))
    finalizing_at: int = Field(default=0, sa_type=BigInteger)
    completed_at: int = Field(default=0, sa_type=BigInteger)
    failed_at: int = Field(default=0, sa_type=BigInteger)
    expired_at: int = Field(default=0, sa_type=BigInteger)
    cancelling_at: int = Field(default=0, sa_type=BigInteger)
    cancelled_at: int = Field(default=0, sa_type=BigInteger)


# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
STORED_RESPONSES: Table = StoredResponseRow.__table__  # type: ignore[attr-defined]
ASSISTANT_OBJECTS: Table = AssistantObjectRow.__table__  # type: ignore[attr-defined]
BATCHES: Table = BatchRow.__table__  # type: ignore[attr-defined]
