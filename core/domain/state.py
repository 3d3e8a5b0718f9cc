"""The core's hot state: everything the call path reads, in memory, loaded at start-up.

Only the core writes the data, so memory stays authoritative as long as every write goes through
the services that update it (see core/services/).
"""

from __future__ import annotations

import heapq
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from core.domain.batches import Batch
from core.domain.entities import Account, ApiKey, Customer, Hold, PrepaidBalance, SettleResult, Slot, Tier
from core.domain.erasure import PENDING
from core.domain.files import StoredFile
from core.domain.vector_store_files import VectorStoreFile
from core.domain.vector_store_migrations import VectorStoreMigration
from core.domain.vector_stores import VectorStore
from ringside_server.client_token import SigningKey

HEAP_SLACK = 10_000
K = TypeVar("K")
V = TypeVar("V")


class BoundedMap(Generic[K, V]):
    """An insertion-ordered map that forgets its oldest entries past `capacity`."""

    def __init__(self, capacity: int) -> None:
        self._items: OrderedDict[K, V] = OrderedDict()
        self._capacity = capacity

    def get(self, key: K) -> V | None:
        return self._items.get(key)

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)

    def discard(self, key: K) -> None:
        self._items.pop(key, None)

    def __len__(self) -> int:
        return len(self._items)


@dataclass(slots=True)
class State:
    accounts: dict[str, Account] = field(default_factory=dict)
    keys_by_hash: dict[str, ApiKey] = field(default_factory=dict)
    keys_by_id: dict[str, ApiKey] = field(default_factory=dict)
    customers: dict[str, Customer] = field(default_factory=dict)
    # (account_id, livemode, external_id) → customer id
    customers_by_external: dict[tuple[str, bool, str], str] = field(default_factory=dict)
    tiers: dict[str, Tier] = field(default_factory=dict)
    # (account_id, livemode, name) → tier id (names are unique per tenant among live tiers)
    tiers_by_name: dict[tuple[str, bool, str], str] = field(default_factory=dict)
    slots: dict[str, Slot] = field(default_factory=dict)
    slots_by_name: dict[tuple[str, bool, str], str] = field(default_factory=dict)
    holds: dict[str, Hold] = field(default_factory=dict)
    # (expires_at, hold id); stale entries (settled or extended holds) are skipped when popped.
    expiry_heap: list[tuple[int, str]] = field(default_factory=list)
    # Recent outcomes, so a repeated or late settle is answered without a database read.
    settled: BoundedMap[str, SettleResult] = field(default_factory=lambda: BoundedMap(200_000))
    expired: BoundedMap[str, Hold] = field(default_factory=lambda: BoundedMap(200_000))
    prepaid: dict[str, PrepaidBalance] = field(default_factory=dict)  # account id → its balance
    # Client Token keys by kid: the newest unretired one signs; retired ones verify for a while.
    signing_keys: dict[str, SigningKey] = field(default_factory=dict)
    # Files' metadata (issue 16), deleted ones left out.
    files: dict[str, StoredFile] = field(default_factory=dict)
    vector_stores: dict[str, VectorStore] = field(default_factory=dict)
    # Attachments by store id, then file id (detached ones left out).
    store_files: dict[str, dict[str, VectorStoreFile]] = field(default_factory=dict)
    # Batches (issue 19) by id.
    batches: dict[str, Batch] = field(default_factory=dict)
    # Re-embed migrations by store id, then migration id (issue 17).
    store_migrations: dict[str, dict[str, VectorStoreMigration]] = field(default_factory=dict)
    # While a lazy start loads the customers (core/services/customer_load.py): the id of every
    # customer ever added since, so a chunk read before a customer was loaded, changed, deleted or
    # erased never installs its older copy. None once every customer is loaded.
    customers_seen: set[str] | None = None
    # The customers whose erasure may be pending: what the erasure sweep reads every second instead
    # of every customer (46 ms of CPU a second with a million loaded, on an idle core). Added to
    # wherever a customer arrives or turns pending (`add_customer`, state_partitions.adopt, the
    # erasure's request); an id no longer pending or no longer here is dropped by the sweep.
    erasures_pending: set[str] = field(default_factory=set)

    def prepaid_of(self, account_id: str) -> PrepaidBalance:
        balance = self.prepaid.get(account_id)
        if balance is None:
            balance = self.prepaid[account_id] = PrepaidBalance()
        return balance

    def add_key(self, key: ApiKey) -> None:
        self.keys_by_id[key.id] = key
        if key.revoked_at is None:
            self.keys_by_hash[key.secret_hash] = key

    def revoke_key(self, key: ApiKey, revoked_at: int) -> None:
        key.revoked_at = revoked_at
        self.keys_by_hash.pop(key.secret_hash, None)

    def add_customer(self, customer: Customer) -> None:
        self.customers[customer.id] = customer
        if self.customers_seen is not None:
            self.customers_seen.add(customer.id)
        if customer.erasure == PENDING:
            self.erasures_pending.add(customer.id)
        if customer.external_id is not None:
            self.customers_by_external[(customer.account_id, customer.livemode, customer.external_id)] = customer.id

    def find_customer(self, account_id: str, livemode: bool, ref: str) -> Customer | None:
        """A customer of this tenant by `cus_…` or `ext:<external_id>`; other tenants' are invisible."""
        if ref.startswith("ext:"):
            customer_id = self.customers_by_external.get((account_id, livemode, ref[4:]))
            return self.customers.get(customer_id) if customer_id else None
        customer = self.customers.get(ref)
        if customer is None or customer.account_id != account_id or customer.livemode != livemode:
            return None
        return customer

    def attributed_customer(self, account_id: str, livemode: bool, customer_ref: str, user: str) -> Customer | None:
        """The customer a finished call was attributed to (API.md "Attribution": FC-Customer, else
        `user` as an external id), read only: a call that created it has already done so."""
        ref = customer_ref or ("ext:" + user if user else "")
        return self.find_customer(account_id, livemode, ref) if ref else None

    def add_tier(self, tier: Tier) -> None:
        self.tiers[tier.id] = tier
        if tier.deleted_at is None:
            self.tiers_by_name[(tier.account_id, tier.livemode, tier.name)] = tier.id

    def find_tier(self, account_id: str, livemode: bool, ref: str) -> Tier | None:
        """A live tier of this tenant by `tier_…` id or by name."""
        tier = self.tiers.get(ref) or self.tiers.get(self.tiers_by_name.get((account_id, livemode, ref), ""))
        if tier is None or tier.account_id != account_id or tier.livemode != livemode or tier.deleted_at:
            return None
        return tier

    def add_slot(self, slot: Slot) -> None:
        self.slots[slot.id] = slot
        self.slots_by_name[(slot.account_id, slot.livemode, slot.name)] = slot.id

    def find_slot(self, account_id: str, livemode: bool, ref: str) -> Slot | None:
        slot = self.slots.get(ref) or self.slots.get(self.slots_by_name.get((account_id, livemode, ref), ""))
        if slot is None or slot.account_id != account_id or slot.livemode != livemode or slot.deleted_at:
            return None
        return slot

    def add_hold(self, hold: Hold) -> None:
        self.holds[hold.id] = hold
        self.schedule_expiry(hold)

    def schedule_expiry(self, hold: Hold) -> None:
        heapq.heappush(self.expiry_heap, (hold.expires_at, hold.id))
        if len(self.expiry_heap) > 2 * len(self.holds) + HEAP_SLACK:
            # Settled holds leave their entry until it comes due: rebuild from the open holds so the
            # heap grows with what is open, not with the call rate times the hold TTL.
            self.expiry_heap = [(h.expires_at, h.id) for h in self.holds.values()]
            heapq.heapify(self.expiry_heap)

    def due_holds(self, now: int) -> list[Hold]:
        """Open holds whose expiry has passed (each returned once per expiry time). A hold being
        settled right now stays scheduled: if that settle fails or its edge goes away, it expires."""
        due: list[Hold] = []
        busy: list[tuple[int, str]] = []
        while self.expiry_heap and self.expiry_heap[0][0] <= now:
            entry = heapq.heappop(self.expiry_heap)
            hold = self.holds.get(entry[1])
            if hold is None or hold.expires_at != entry[0]:
                continue  # settled, or extended (a newer entry exists)
            if hold.settling:
                busy.append(entry)
            else:
                due.append(hold)
        for entry in busy:
            heapq.heappush(self.expiry_heap, entry)
        return due
