"""What the calls used and how they were answered: usage records, their daily sums and the request log."""

from __future__ import annotations

from sqlalchemy import BigInteger, Index, Table
from sqlmodel import Field, SQLModel


class UsageRow(SQLModel, table=True):
    __tablename__ = "usage_records"
    __table_args__ = (Index("ix_usage_customer_period", "account_id", "livemode", "customer_id", "period_start"),)

    request_id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, max_length=64)
    provider: str = Field(max_length=100)
    model_ref: str = Field(max_length=300)
    upstream_model: str = Field(default="", max_length=300)
    input_tokens: int = Field(default=0, sa_type=BigInteger)
    cached_input_tokens: int = Field(default=0, sa_type=BigInteger)
    cache_write_tokens: int = Field(default=0, sa_type=BigInteger)
    output_tokens: int = Field(default=0, sa_type=BigInteger)
    reasoning_tokens: int = Field(default=0, sa_type=BigInteger)
    audio_input_tokens: int = Field(default=0, sa_type=BigInteger)
    audio_output_tokens: int = Field(default=0, sa_type=BigInteger)
    image_input_tokens: int = Field(default=0, sa_type=BigInteger)
    cost_nano: int = Field(sa_type=BigInteger)
    billable_nano: int = Field(sa_type=BigInteger)
    posted_nano: int = Field(sa_type=BigInteger)
    unbilled_nano: int = Field(sa_type=BigInteger)
    status: str = Field(max_length=32)
    usage_estimated: bool = False
    period_start: int = Field(sa_type=BigInteger)
    created: int = Field(sa_type=BigInteger)
    hold_id: str | None = Field(default=None, max_length=64)


class UsageDailyRow(SQLModel, table=True):
    """The usage records summed per (tenant, day, customer, model, period), added in the same
    transaction as the records themselves (core/store/usage_daily.py). /v1/usage reads whole days
    from here, so purging old usage records (retention) never shrinks a total."""

    __tablename__ = "usage_daily"
    __table_args__ = (
        Index("ix_usage_daily_customer_period", "customer_id", "period_start"),
        # one customer's days (a usage query of one customer): the primary key's (account, mode,
        # day) prefix would read every customer's rows of those days
        Index("ix_usage_daily_customer_day", "account_id", "livemode", "customer_id", "day"),
        Index("ix_usage_daily_day", "day"),  # the retention purge's look for customers with old records
    )

    account_id: str = Field(primary_key=True, max_length=64)
    livemode: bool = Field(primary_key=True)
    day: int = Field(primary_key=True, sa_type=BigInteger)  # days since the epoch (UTC)
    customer_id: str = Field(primary_key=True, max_length=64)  # "" for an unattributed call
    model_ref: str = Field(primary_key=True, max_length=300)
    period_start: int = Field(primary_key=True, sa_type=BigInteger)
    cost_nano: int = Field(default=0, sa_type=BigInteger)
    posted_nano: int = Field(default=0, sa_type=BigInteger)
    request_count: int = Field(default=0, sa_type=BigInteger)
    input_tokens: int = Field(default=0, sa_type=BigInteger)
    output_tokens: int = Field(default=0, sa_type=BigInteger)


class RequestLogRow(SQLModel, table=True):
    """One model call as its edge answered it (GET /v1/requests): route, asked and served model,
    status, error code, latency — no prompt or completion. Refusals have no usage record."""

    __tablename__ = "request_log"
    __table_args__ = (Index("ix_request_log_tenant_created", "account_id", "livemode", "created"),)

    request_id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, max_length=64)
    route: str = Field(default="", max_length=100)
    model: str = Field(default="", max_length=300)
    resolved_model: str = Field(default="", max_length=300)
    status: int = 0
    error_code: str = Field(default="", max_length=64)
    latency_ms: int = Field(default=0, sa_type=BigInteger)
    created: int = Field(sa_type=BigInteger)
    created_ms: int = Field(default=0, sa_type=BigInteger)  # orders the calls of one second


# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
USAGE: Table = UsageRow.__table__  # type: ignore[attr-defined]
USAGE_DAILY: Table = UsageDailyRow.__table__  # type: ignore[attr-defined]
REQUEST_LOG: Table = RequestLogRow.__table__  # type: ignore[attr-defined]
