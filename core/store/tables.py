"""The schema (sqlmodel). Money columns are BIGINT nano-USD; transfers are insert-only.

Changing a table means adding an alembic revision under core/store/migrations/versions/
(tests/core/test_migrations.py fails when the two disagree).
"""

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


class HoldRow(SQLModel, table=True):
    """Operational state of a hold (open → settled | expired); the money lives in transfers."""

    __tablename__ = "holds"

    id: str = Field(primary_key=True, max_length=64)
    account_id: str = Field(max_length=64)
    livemode: bool
    customer_id: str | None = Field(default=None, max_length=64)
    payer: str = Field(max_length=200)
    revenue: str = Field(max_length=200)
    amount_nano: int = Field(sa_type=BigInteger)
    period_start: int = Field(sa_type=BigInteger)
    created: int = Field(sa_type=BigInteger)
    expires_at: int = Field(sa_type=BigInteger)
    provider: str = Field(max_length=100)
    model_ref: str = Field(max_length=300)
    price_json: str = Field(sa_column=Column(Text, nullable=False))
    markup_bp: int = 0
    kind: str = Field(default="call", max_length=8)
    prepaid_nano: int = Field(default=0, sa_type=BigInteger)
    state: str = Field(default="open", index=True, max_length=16)
    resolved_at: int | None = Field(default=None, sa_type=BigInteger)
    # A lease: how many calls it may admit; at its expiry, how many of them no report named.
    lease_calls: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    slots_released_unreported: int | None = None
    # What the first answer carried beyond the amount (Hold.output_tokens / lease_tokens), so a
    # taker answers a repeated Authorize or AcquireLease exactly as the first answer did.
    output_tokens: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})
    lease_tokens: int = Field(default=0, sa_type=BigInteger, sa_column_kwargs={"server_default": "0"})


class LeaseAdmissionRow(SQLModel, table=True):
    """A call an edge reported admitted under a lease (its expiry posts it if it never settles)."""

    __tablename__ = "lease_admissions"

    request_id: str = Field(primary_key=True, max_length=64)
    lease_id: str = Field(index=True, max_length=64)
    model_ref: str = Field(max_length=300)
    provider: str = Field(max_length=100)
    estimate_nano: int = Field(sa_type=BigInteger)
    created: int = Field(sa_type=BigInteger)


# The wallet indexes' predicates, as `text()` (`\:` is a colon, not a bind parameter). A reader
# names them word for word (wallet_history.WALLET_DEBIT / WALLET_CREDIT): SQLite and PostgreSQL use a
# partial index only for a query whose WHERE contains its predicate's terms.
WALLET_DEBIT_SQL = r"kind != 'pending' AND debit LIKE '%\:wallet'"
WALLET_CREDIT_SQL = r"kind != 'pending' AND credit LIKE '%\:wallet'"
_LEASE_TRANSFER = text("hold_id IS NOT NULL")


class TransferRow(SQLModel, table=True):
    """One immutable double-entry movement. `pending_id` is unique: a hold resolves at most once."""

    __tablename__ = "transfers"
    __table_args__ = (
        # A wallet's page by keyset, newest first (core/store/wallet_history.py). Holds' pending
        # transfers are left out: their ids (`tr_req_…`) sort after every other, so a newest-first
        # walk would step over all of them before the first listed transaction. Only wallets'
        # transfers: no other ledger account is read by side, and a settle that debits a spend
        # account writes no entry in either (0033).
        Index(
            "ix_transfers_debit_id",
            "debit",
            "id",
            sqlite_where=text(WALLET_DEBIT_SQL),
            postgresql_where=text(WALLET_DEBIT_SQL),
        ),
        Index(
            "ix_transfers_credit_id",
            "credit",
            "id",
            sqlite_where=text(WALLET_CREDIT_SQL),
            postgresql_where=text(WALLET_CREDIT_SQL),
        ),
        # A lease's posts (core/store/loader.py); the other transfers' NULLs are left out.
        Index("ix_transfers_hold_id", "hold_id", sqlite_where=_LEASE_TRANSFER, postgresql_where=_LEASE_TRANSFER),
    )

    id: str = Field(primary_key=True, max_length=80)
    account_id: str = Field(max_length=64)
    livemode: bool
    debit: str = Field(max_length=200)
    credit: str = Field(max_length=200)
    amount_nano: int = Field(sa_type=BigInteger)
    kind: str = Field(max_length=16)
    request_id: str = Field(index=True, max_length=64)
    pending_id: str | None = Field(default=None, unique=True, max_length=80)
    hold_id: str | None = Field(default=None, max_length=64)  # indexed for leases (ix_transfers_hold_id)
    memo: str = Field(default="", max_length=500)
    period_start: int = Field(sa_type=BigInteger)
    created: int = Field(sa_type=BigInteger)


class LedgerTotalRow(SQLModel, table=True):
    """Running totals of the ledger per (ledger account, period, transfer kind): what every transfer
    moved, added in the same transaction as the transfer itself (core/store/ledger_totals.py). The
    core starts from these instead of summing the whole ledger; the audit recomputes them."""

    __tablename__ = "ledger_totals"

    ledger_account: str = Field(primary_key=True, max_length=200)
    period_start: int = Field(primary_key=True, sa_type=BigInteger)
    kind: str = Field(primary_key=True, max_length=16)
    debit_nano: int = Field(default=0, sa_type=BigInteger)
    credit_nano: int = Field(default=0, sa_type=BigInteger)


class PartitionLeaseRow(SQLModel, table=True):
    """Which core owns a partition of the accounts (PostgreSQL; core/store/partition_leases.py): its
    id, the epoch it claimed at (every claim adds one: the fencing token every ledger write checks in
    its own transaction) and until when (ms, the database's clock) unless it renews."""

    __tablename__ = "partition_leases"

    partition: int = Field(primary_key=True, sa_type=BigInteger)
    owner: str = Field(max_length=200)
    epoch: int = Field(sa_type=BigInteger)
    expires_at_ms: int = Field(sa_type=BigInteger)


class CoreAddressRow(SQLModel, table=True):
    """Where each core listens for the edges (PostgreSQL; core/store/core_addresses.py): with
    partition_leases, the partition map an edge routes each call by (issue 25)."""

    __tablename__ = "core_addresses"

    core_id: str = Field(primary_key=True, max_length=200)
    address: str = Field(max_length=300)
    updated_at_ms: int = Field(sa_type=BigInteger)


class PartitionWindowRow(SQLModel, table=True):
    """Rate-limit windows handed over with a partition (core/store/partition_windows.py): written by
    the giver in its release's transaction, read and deleted by the core that claims the partition."""

    __tablename__ = "partition_windows"

    partition: int = Field(primary_key=True, sa_type=BigInteger)
    window_key: str = Field(primary_key=True, max_length=300)
    entries_json: str = Field(sa_type=Text)


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


class SigningKeyRow(SQLModel, table=True):
    """Ringside's keys for Client Tokens (Ed25519). One signs; retired ones verify until their
    tokens have expired."""

    __tablename__ = "signing_keys"

    kid: str = Field(primary_key=True, max_length=64)
    private_pem: str = Field(sa_column=Column(SealedText("private_pem"), nullable=False))
    public_raw_b64: str = Field(max_length=64)
    created: int = Field(sa_type=BigInteger)
    retired_at: int | None = Field(default=None, sa_type=BigInteger)


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


METADATA = SQLModel.metadata

# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
ACCOUNTS: Table = AccountRow.__table__  # type: ignore[attr-defined]
API_KEYS: Table = ApiKeyRow.__table__  # type: ignore[attr-defined]
CUSTOMERS: Table = CustomerRow.__table__  # type: ignore[attr-defined]
HOLDS: Table = HoldRow.__table__  # type: ignore[attr-defined]
TIERS: Table = TierRow.__table__  # type: ignore[attr-defined]
SLOTS: Table = SlotRow.__table__  # type: ignore[attr-defined]
IDEMPOTENCY: Table = IdempotencyRow.__table__  # type: ignore[attr-defined]
TRANSFERS: Table = TransferRow.__table__  # type: ignore[attr-defined]
USAGE: Table = UsageRow.__table__  # type: ignore[attr-defined]
LEDGER_TOTALS: Table = LedgerTotalRow.__table__  # type: ignore[attr-defined]
USAGE_DAILY: Table = UsageDailyRow.__table__  # type: ignore[attr-defined]
PARTITION_LEASES: Table = PartitionLeaseRow.__table__  # type: ignore[attr-defined]
CORE_ADDRESSES: Table = CoreAddressRow.__table__  # type: ignore[attr-defined]
PARTITION_WINDOWS: Table = PartitionWindowRow.__table__  # type: ignore[attr-defined]
LEASE_ADMISSIONS: Table = LeaseAdmissionRow.__table__  # type: ignore[attr-defined]
SIGNING_KEYS: Table = SigningKeyRow.__table__  # type: ignore[attr-defined]
FILES: Table = FileRow.__table__  # type: ignore[attr-defined]
VECTOR_STORES: Table = VectorStoreRow.__table__  # type: ignore[attr-defined]
VECTOR_STORE_FILES: Table = VectorStoreFileRow.__table__  # type: ignore[attr-defined]
VECTOR_STORE_QUERIES: Table = VectorStoreQueryRow.__table__  # type: ignore[attr-defined]
BATCHES: Table = BatchRow.__table__  # type: ignore[attr-defined]


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


WEBHOOK_ENDPOINTS: Table = WebhookEndpointRow.__table__  # type: ignore[attr-defined]
EVENTS: Table = EventRow.__table__  # type: ignore[attr-defined]
OUTBOX: Table = OutboxRow.__table__  # type: ignore[attr-defined]
DELIVERY_ATTEMPTS: Table = DeliveryAttemptRow.__table__  # type: ignore[attr-defined]


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


CUSTOMER_PERIODS: Table = CustomerPeriodRow.__table__  # type: ignore[attr-defined]
STRIPE_SETTINGS: Table = StripeSettingsRow.__table__  # type: ignore[attr-defined]
STRIPE_CURSORS: Table = StripeCursorRow.__table__  # type: ignore[attr-defined]
STRIPE_SYNC_RUNS: Table = StripeSyncRunRow.__table__  # type: ignore[attr-defined]
STORED_RESPONSES: Table = StoredResponseRow.__table__  # type: ignore[attr-defined]
REQUEST_LOG: Table = RequestLogRow.__table__  # type: ignore[attr-defined]
ASSISTANT_OBJECTS: Table = AssistantObjectRow.__table__  # type: ignore[attr-defined]


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


VECTOR_STORE_MIGRATIONS: Table = VectorStoreMigrationRow.__table__  # type: ignore[attr-defined]
