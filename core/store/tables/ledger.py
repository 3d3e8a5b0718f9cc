"""The money: holds and the calls admitted under leases, the immutable double-entry transfers and
their running totals. Money columns are BIGINT nano-USD; transfers are insert-only."""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Table, Text, text
from sqlmodel import Field, SQLModel


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


# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
HOLDS: Table = HoldRow.__table__  # type: ignore[attr-defined]
LEASE_ADMISSIONS: Table = LeaseAdmissionRow.__table__  # type: ignore[attr-defined]
TRANSFERS: Table = TransferRow.__table__  # type: ignore[attr-defined]
LEDGER_TOTALS: Table = LedgerTotalRow.__table__  # type: ignore[attr-defined]
