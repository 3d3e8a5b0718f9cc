"""Billing: closed customer periods and the Stripe usage sync (settings, cursors, runs)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text
from sqlmodel import Field, SQLModel

from core.store.sealing import SealedText


class CustomerPeriodRow(SQLModel, table=True):
    """A closed billing period of one customer (`per_…`): written once, never changed."""

    __tablename__ = "customer_periods"
    __table_args__ = (Index("ux_customer_periods", "customer_id", "period_start", unique=True),)

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    customer_id: str = Field(max_length=64)
    period_start: int = Field(sa_type=BigInteger)
    period_end: int = Field(sa_type=BigInteger)
    cost_nano: int = Field(default=0, sa_type=BigInteger)
    billable_nano: int = Field(default=0, sa_type=BigInteger)
    request_count: int = Field(default=0, sa_type=BigInteger)
    input_tokens: int = Field(default=0, sa_type=BigInteger)
    output_tokens: int = Field(default=0, sa_type=BigInteger)
    closed_at: int = Field(sa_type=BigInteger)


class StripeSettingsRow(SQLModel, table=True):
    """An account's Stripe usage sync settings, per mode. The key is sealed at rest: every sync uses it."""

    __tablename__ = "stripe_settings"

    account_id: str = Field(primary_key=True, max_length=64)
    livemode: bool = Field(primary_key=True)
    secret_key: str = Field(sa_column=Column(SealedText("secret_key"), nullable=False))
    meter_event_name: str = Field(max_length=100)
    value_kind: str = Field(max_length=32)
    updated: int = Field(sa_type=BigInteger)


class StripeCursorRow(SQLModel, table=True):
    """How much of a customer's usage (in whole units of `value_kind`) Stripe has; a planned push
    (pending_*) is durable before it is sent, so its retry sends the same identifier and value."""

    __tablename__ = "stripe_sync_cursors"

    customer_id: str = Field(primary_key=True, max_length=64)
    value_kind: str = Field(primary_key=True, max_length=32)
    account_id: str = Field(max_length=64)
    livemode: bool
    pushed_units: int = Field(default=0, sa_type=BigInteger)
    pending_units: int = Field(default=0, sa_type=BigInteger)
    pending_identifier: str = Field(default="", max_length=100)
    pending_at: int = Field(default=0, sa_type=BigInteger)
    last_error: str = Field(default="", max_length=500)
    updated: int = Field(sa_type=BigInteger)


class StripeSyncRunRow(SQLModel, table=True):
    """One sync run's outcome for one tenant (`ssr_…`)."""

    __tablename__ = "stripe_sync_runs"
    __table_args__ = (Index("ix_stripe_sync_runs_tenant", "account_id", "livemode", "id"),)

    id: str = Field(primary_key=True, max_length=64)
    run_id: str = Field(max_length=200)
    account_id: str = Field(max_length=64)
    livemode: bool
    status: str = Field(max_length=16)
    events_pushed: int = Field(default=0, sa_type=BigInteger)
    units_pushed: int = Field(default=0, sa_type=BigInteger)
    duplicates: int = Field(default=0, sa_type=BigInteger)
    failed: int = Field(default=0, sa_type=BigInteger)
    errors_json: str = Field(default="[]", sa_column=Column(Text, nullable=False))
    snapshot_at: int = Field(default=0, sa_type=BigInteger)
    started: int = Field(sa_type=BigInteger)
    finished: int = Field(default=0, sa_type=BigInteger)


# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
CUSTOMER_PERIODS: Table = CustomerPeriodRow.__table__  # type: ignore[attr-defined]
STRIPE_SETTINGS: Table = StripeSettingsRow.__table__  # type: ignore[attr-defined]
STRIPE_CURSORS: Table = StripeCursorRow.__table__  # type: ignore[attr-defined]
STRIPE_SYNC_RUNS: Table = StripeSyncRunRow.__table__  # type: ignore[attr-defined]
