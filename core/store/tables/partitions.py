"""Which core owns which partition of the accounts, where each core listens, and the rate-limit
windows handed over with a partition (PostgreSQL, several cores)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Table, Text
from sqlmodel import Field, SQLModel


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


# The Core (SQLAlchemy) tables behind the models, for the writer's and the loader's statements.
PARTITION_LEASES: Table = PartitionLeaseRow.__table__  # type: ignore[attr-defined]
CORE_ADDRESSES: Table = CoreAddressRow.__table__  # type: ignore[attr-defined]
PARTITION_WINDOWS: Table = PartitionWindowRow.__table__  # type: ignore[attr-defined]
