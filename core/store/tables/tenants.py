"""Tenants and what configures them: accounts, API keys, customers, tiers, slots, Client Token
signing keys and the Idempotency-Key replay store."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, LargeBinary, Table, Text, text
from sqlmodel import Field, SQLModel

from core.store.sealing import SealedText


class AccountRow(SQLModel, table=True):
    __tablename__ = "accounts"

    id: str = Field(primary_key=True, max_length=64)
    name: str = Field(max_length=256)
    created: int = Field(sa_type=BigInteger)
    markup_bp: int = 0
    auto_create_customers: bool = False
    default_max_output_tokens: int | None = None
    default_tier_live: str | None = Field(default=None, max_length=64)
    default_tier_test: str | None = Field(default=None, max_length=64)
    prepaid_balance_enabled: bool = False
    low_threshold_pct: int = 80
    require_customer_live: bool = False
    require_customer_test: bool = False
    bare_model_provider_live: str | None = Field(default=None, max_length=64)
    bare_model_provider_test: str | None = Field(default=None, max_length=64)


class ApiKeyRow(SQLModel, table=True):
    __tablename__ = "api_keys"

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    livemode: bool
    name: str = Field(max_length=256)
    scopes: str = Field(max_length=256)
    secret_hash: str = Field(unique=True, max_length=64)
    redacted: str = Field(max_length=64)
    created: int = Field(sa_type=BigInteger)
    revoked_at: int | None = Field(default=None, sa_type=BigInteger)
    # A JSON array of allowed_models entries; NULL: every model.
    allowed_models_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


# The live customers a Stripe sync plans for, walked by id (core/store/billing.py): a batch reads its
# next customers from this index, whatever the number of customers without a Stripe id (0035). The
# reader repeats these words: SQLite uses a partial index only for a query whose WHERE names them.
STRIPE_SYNCED_SQL = "stripe_customer_id <> '' AND deleted_at IS NULL"


class CustomerRow(SQLModel, table=True):
    __tablename__ = "customers"
    __table_args__ = (
        Index(
            "ix_customers_stripe_synced",
            "id",
            sqlite_where=text(STRIPE_SYNCED_SQL),
            postgresql_where=text(STRIPE_SYNCED_SQL),
        ),
        # external ids are unique per tenant among live rows; a deleted customer frees its id.
        Index(
            "ux_customers_external",
            "account_id",
            "livemode",
            "external_id",
            unique=True,
            sqlite_where=Column("deleted_at").is_(None),
            postgresql_where=Column("deleted_at").is_(None),
        ),
    )

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(index=True, max_length=64)
    livemode: bool
    external_id: str | None = Field(default=None, max_length=255)
    name: str = Field(default="", max_length=256)
    email: str = Field(default="", max_length=320)
    metadata_json: str = Field(default="{}", sa_column=Column(Text, nullable=False))
    budget_nano: int | None = Field(default=None, sa_type=BigInteger)
    budget_explicit: bool = False
    rate_limit_rpm: int | None = Field(default=None, sa_type=BigInteger)
    rate_limit_tpm: int | None = Field(default=None, sa_type=BigInteger)
    blocked: bool = False
    billing_anchor_day: int = 1
    wallet_enabled: bool = False
    wallet_low_threshold_nano: int = Field(default=0, sa_type=BigInteger)
    stripe_customer_id: str = Field(default="", max_length=255)
    tier_id: str = Field(default="", max_length=64)
    created: int = Field(sa_type=BigInteger)
    deleted_at: int | None = Field(default=None, sa_type=BigInteger)
    # Client Tokens of this customer issued before this unix time are revoked (revoke_all).
    tokens_revoked_before_ms: int = Field(default=0, sa_type=BigInteger)
    # "" | "pending" (blocked, waiting for its holds) | "completed" (personal data gone, deleted)
    erasure_status: str = Field(default="", max_length=16)
    # Its own allowed_models: NULL = inherit (tier), the JSON `null` = explicitly every model, else a
    # JSON array of entries.
    allowed_models_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class TierRow(SQLModel, table=True):
    __tablename__ = "tiers"
    __table_args__ = (
        Index(
            "ux_tiers_name",
            "account_id",
            "livemode",
            "name",
            unique=True,
            sqlite_where=Column("deleted_at").is_(None),
            postgresql_where=Column("deleted_at").is_(None),
        ),
    )

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    name: str = Field(max_length=100)
    budget_nano: int | None = Field(default=None, sa_type=BigInteger)
    rate_limit_rpm: int | None = Field(default=None, sa_type=BigInteger)
    rate_limit_tpm: int | None = Field(default=None, sa_type=BigInteger)
    markup_bp: int | None = None
    created: int = Field(sa_type=BigInteger)
    deleted_at: int | None = Field(default=None, sa_type=BigInteger)
    # A JSON array of allowed_models entries; NULL: every model.
    allowed_models_json: str | None = Field(default=None, sa_column=Column(Text, nullable=True))


class SlotRow(SQLModel, table=True):
    __tablename__ = "slots"
    __table_args__ = (
        Index(
            "ux_slots_name",
            "account_id",
            "livemode",
            "name",
            unique=True,
            sqlite_where=Column("deleted_at").is_(None),
            postgresql_where=Column("deleted_at").is_(None),
        ),
    )

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    name: str = Field(max_length=100)
    model: str = Field(max_length=300)
    created: int = Field(sa_type=BigInteger)
    deleted_at: int | None = Field(default=None, sa_type=BigInteger)


class IdempotencyRow(SQLModel, table=True):
    """The first response to an Idempotency-Key (per account, mode and route), replayed to repeats."""

    __tablename__ = "idempotency_keys"

    account_id: str = Field(primary_key=True, max_length=64)
    livemode: bool = Field(primary_key=True)
    route: str = Field(primary_key=True, max_length=200)
    key: str = Field(primary_key=True, max_length=255)
    request_hash: str = Field(max_length=64)
    status: int
    body: bytes = Field(sa_column=Column(LargeBinary, nullable=False))
    created: int = Field(sa_type=BigInteger, index=True)


class SigningKeyRow(SQLModel, table=True):
    """Ringside's keys for Client Tokens (Ed25519). One signs; retired ones verify until their
    tokens have expired."""

    __tablename__ = "signing_keys"

    kid: str = Field(primary_key=True, max_length=64)
    private_pem: str = Field(sa_column=Column(SealedText("private_pem"), nullable=False))
    public_raw_b64: str = Field(max_length=64)
    created: int = Field(sa_type=BigInteger)
    retired_at: int | None = Field(default=None, sa_type=BigInteger)


# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[attr-defined]
API_KEYS: Table = ApiKeyRow.__table__  # type: ignore[attr-defined]
CUSTOMERS: Table = CustomerRow.__table__  # type: ignore[attr-defined]
TIERS: Table = TierRow.__table__  # type: ignore[attr-defined]
SLOTS: Table = SlotRow.__table__  # type: ignore[attr-defined]
IDEMPOTENCY: Table = IdempotencyRow.__table__  # type: ignore[attr-defined]
SIGNING_KEYS: Table = SigningKeyRow.__table__  # type: ignore[attr-defined]
