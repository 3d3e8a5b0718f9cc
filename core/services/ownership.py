"""Which accounts this core serves (issue 25, docs/scaling.md "Partitions over active cores").

With `RINGSIDE_CORE_SHARE=all` (and always on SQLite) a serving core holds every partition and
`serving` is None: every check passes, nothing changes. With `fair` (the default on PostgreSQL;
the calls listing across accounts are answered by every live core, core/rpc/fanout.py) a core serves
only the partitions it holds *and has loaded*; a call for another core's account is answered
"not owner" (`NotOwner`: FAILED_PRECONDITION, the account and the owner's address in trailing
metadata) before it reads or writes anything, and the client (ringside_server/core_routing.py)
sends it again to that owner. Calls that name no account (the internal token with no
`x-ringside-account`, the operator's admin key) belong to the owner of the system partition (0),
which also runs the account-less writes."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, select

from core.domain.entities import ApiKey, Hold
from core.store.partition_fence import SYSTEM_PARTITION
from core.store.tables import (
    API_KEYS,
    BATCHES,
    EVENTS,
    FILES,
    HOLDS,
    VECTOR_STORE_MIGRATIONS,
    VECTOR_STORES,
    WEBHOOK_ENDPOINTS,
)
from ringside_server.errors import RingsideError
from ringside_server.partitions import partition_of

ApiKeyOrHold = ApiKey | Hold
ACCOUNT_KEY = "x-ringside-account"
NOT_OWNER_ACCOUNT_KEY = "ringside-not-owner-account"
NOT_OWNER_PARTITION_KEY = "ringside-not-owner-partition"
OWNER_ADDRESS_KEY = "ringside-owner-address"


class NotOwner(RingsideError):
    """The call is another core's: its account's partition (or the system one) is not served here."""

    def __init__(self, account_id: str, partition: int, owner_address: str) -> None:
        self.account_id = account_id
        self.partition = partition
        self.owner_address = owner_address
        super().__init__("service_unavailable", "This core does not own this account's partition; retry the request.")


@dataclass
class Ownership:
    partitions: int
    # The partitions served (held and loaded); None: every one (a single active core).
    serving: frozenset[int] | None = None
    # Partition → the address of the core holding it (the partition map; refreshed by the lease loop).
    owners: dict[int, str] = field(default_factory=dict)
    # This core's advertised address (`fair`): left out when a list is asked of the other cores.
    address: str = ""

    def serves_account(self, account_id: str) -> bool:
        return self.serving is None or partition_of(account_id, self.partitions) in self.serving

    def check_account(self, account_id: str) -> None:
        """NotOwner unless this core serves `account_id`."""
        if self.serving is None:
            return
        partition = partition_of(account_id, self.partitions)
        if partition not in self.serving:
            raise NotOwner(account_id, partition, self.owners.get(partition, ""))

    def check_system(self) -> None:
        """NotOwner unless this core serves the system partition (account-less calls)."""
        if self.serving is not None and SYSTEM_PARTITION not in self.serving:
            raise NotOwner("", SYSTEM_PARTITION, self.owners.get(SYSTEM_PARTITION, ""))


def key_router(ownership: Ownership, engine: Engine) -> Callable[[str, str, ApiKey | None], None]:
    """Meter.route_key for several active cores: a key in memory is checked by its account; a key
    this core has not loaded (another partition's) is looked up in the database (rare: a client's
    first call through an edge that has not learnt its account yet) and answered "not owner"."""

    def route(column: str, value: str, key: ApiKey | None) -> None:
        if key is not None:
            ownership.check_account(key.account_id)
            return
        if ownership.serving is None:
            return
        with engine.connect() as connection:
            account_id = connection.execute(
                select(API_KEYS.c.account_id).where(API_KEYS.c[column] == value[:64])
            ).scalar()
        if account_id is not None:
            ownership.check_account(str(account_id))

    return route


def route_hold(ownership: Ownership, engine: Engine, known: ApiKeyOrHold | None, hold_id: str) -> None:
    """A call naming a hold or lease (a settle, an extension, a lease report): NotOwner when its
    account is another core's — looked up in the database when this core has not loaded it."""
    if ownership.serving is None:
        return
    if known is not None:
        ownership.check_account(known.account_id)
        return
    with engine.connect() as connection:
        account_id = connection.execute(select(HOLDS.c.account_id).where(HOLDS.c.id == hold_id[:64])).scalar()
    if account_id is not None:
        ownership.check_account(str(account_id))


# Internal calls that name an object rather than an account (a worker's batch, ingest, migration or
# delivery): the object's table, looked up by id in this order when the call names no account.
_OBJECT_FIELDS = (
    ("batch_id", BATCHES),
    ("migration_id", VECTOR_STORE_MIGRATIONS),
    ("store_id", VECTOR_STORES),
    ("file_id", FILES),
    ("endpoint_id", WEBHOOK_ENDPOINTS),
    ("event_id", EVENTS),
)


def route_object(ownership: Ownership, engine: Engine, request: Any) -> None:
    """NotOwner when the first object id `request` carries belongs to another core's account (one
    primary-key read; an id found nowhere is left to the method, which answers "not found")."""
    for name, table in _OBJECT_FIELDS:
        value = getattr(request, name, "")
        if not isinstance(value, str) or not value:
            continue
        with engine.connect() as connection:
            account_id = connection.execute(select(table.c.account_id).where(table.c.id == value[:64])).scalar()
        if account_id is not None:
            ownership.check_account(str(account_id))
        return
