"""Webhooks: endpoints, events, the outbox a relay reads and every delivery attempt."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text
from sqlmodel import Field, SQLModel

from core.store.sealing import SealedText


class WebhookEndpointRow(SQLModel, table=True):
    """A receiver of events (`we_…`). Secrets are sealed at rest (core/store/sealing.py): every
    attempt signs with them, so they are kept, never only hashed."""

    __tablename__ = "webhook_endpoints"

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    livemode: bool
    url: str = Field(max_length=2048)
    events_json: str = Field(sa_column=Column(Text, nullable=False))
    description: str = Field(default="", max_length=500)
    secret: str = Field(sa_column=Column(SealedText("secret"), nullable=False))
    previous_secret: str = Field(default="", sa_column=Column(SealedText("previous_secret"), nullable=False))
    previous_secret_expires_at: int = Field(default=0, sa_type=BigInteger)
    enabled: bool = True
    # The first failed attempt since the last success (0 = none): three days of failure disable it.
    failing_since: int = Field(default=0, sa_type=BigInteger)
    created: int = Field(sa_type=BigInteger)
    deleted_at: int | None = Field(default=None, sa_type=BigInteger)


class EventRow(SQLModel, table=True):
    """An event (`evt_…`) as its receivers get it: the body is serialized once and signed per attempt."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_customer_type", "customer_id", "type"),
        # GET /v1/events: one tenant's events, newest first (ids sort by time).
        Index("ix_events_tenant", "account_id", "livemode", "id"),
    )

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    type: str = Field(max_length=64)
    customer_id: str | None = Field(default=None, max_length=64)
    # What made the edge fire (e.g. "period:cap" for customer.budget_exceeded), for reloads.
    trigger_key: str = Field(default="", max_length=200)
    body: str = Field(sa_column=Column(Text, nullable=False))
    created: int = Field(sa_type=BigInteger)


class OutboxRow(SQLModel, table=True):
    """Written in the same commit as what caused it; the worker's relay starts one delivery workflow
    per (event, endpoint) and marks the row relayed. `endpoint_id` "" = every subscribed endpoint."""

    __tablename__ = "outbox"

    id: str = Field(primary_key=True, max_length=64)
    event_id: str = Field(max_length=64)
    endpoint_id: str = Field(default="", max_length=64)
    created: int = Field(sa_type=BigInteger)
    relayed_at: int | None = Field(default=None, sa_type=BigInteger, index=True)


class DeliveryAttemptRow(SQLModel, table=True):
    """One POST of one event to one endpoint (`wha_…`)."""

    __tablename__ = "webhook_delivery_attempts"
    __table_args__ = (Index("ix_delivery_attempts_endpoint", "endpoint_id", "id"),)

    id: str = Field(primary_key=True, max_length=64)
    endpoint_id: str = Field(max_length=64)
    event_id: str = Field(max_length=64)
    event_type: str = Field(max_length=64)
    attempt: int
    created: int = Field(sa_type=BigInteger)
    succeeded: bool
    http_status: int = 0
    latency_ms: int = 0
    error: str = Field(default="", max_length=500)
    next_retry_at: int = Field(default=0, sa_type=BigInteger)


# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
WEBHOOK_ENDPOINTS: Table = WebhookEndpointRow.__table__  # type: ignore[attr-defined]
EVENTS: Table = EventRow.__table__  # type: ignore[attr-defined]
OUTBOX: Table = OutboxRow.__table__  # type: ignore[attr-defined]
DELIVERY_ATTEMPTS: Table = DeliveryAttemptRow.__table__  # type: ignore[attr-defined]
