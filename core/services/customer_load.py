"""A lazy start (issue 24, "cost independent of history"): the core serves once its tenants' state
is loaded; the customers follow in keyset chunks in the background, and any call that names a
customer first loads that one (single-flight per customer) if the chunks have not reached it.

Why one state per customer, whatever the order of the loads: every write for a customer is made by
a call that first awaited that customer's load, and the expiry, erasure and billing loops wait for
the whole load (`finished`). So while a customer is not installed nothing writes it, and a read of
it (a chunk's or an on-demand one) sees its whole history. Once it is installed, every later copy
(a chunk read before or after the install, an on-demand read racing a chunk) is dropped: the first
install wins, and `State.customers_seen` keeps a customer deleted or erased meanwhile from coming
back. A customer's open holds were loaded with the tenants; their share (`held_nano`) is added when
the customer is installed, from the holds still open then (none of them changed: they are its).

Every other call that reads across customers (lists, usage, tiers, billing, the consistency check)
waits for the whole load (core/rpc/base.py `rpc`).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections import defaultdict
from typing import Any

from sqlalchemy import Engine

from core.domain.entities import Hold, hash_secret
from core.domain.state import State
from core.store.event_marks import set_marks
from core.store.loader import CustomerChunk, load_customers, release_freed_heap

log = logging.getLogger("ringside.core")

CHUNK = 2_000
# The calls that name their customer (by reference, by attributed user, or by the hold or lease
# they settle): served during the load once that customer is loaded. Every other call waits.
# SettleLeaseReports loads each of its leases' customers report by report (core/rpc/metering.py).
ON_DEMAND = frozenset(
    {
        "Authorize",
        "AcquireLease",
        "Settle",
        "SettleLeaseCalls",
        "SettleLeaseReports",
        "ExtendHold",
        "CountRequest",
        "ModelPolicy",
    }
)
_Key = tuple[str, ...]


class CustomerLoad:
    def __init__(self, engine: Engine, state: State, chunk: int | None = None, filtered: bool = False) -> None:
        self.engine = engine
        self.state = state
        self.chunk = chunk or CHUNK
        # A `fair` core's share: the chunks read its accounts' customers only (those it serves
        # when each chunk is read; a customer is installed only if its account is still served).
        self.filtered = filtered
        self.finished = False
        self.done = asyncio.Event()
        self._inflight: dict[_Key, asyncio.Future[None]] = {}
        # Open holds by customer, as loaded with the tenants (for the customers not installed yet).
        self._holds: dict[str, list[Hold]] = defaultdict(list)
        for hold in state.holds.values():
            if hold.customer_id:
                self._holds[hold.customer_id].append(hold)
        state.customers_seen = set()
        self.on_demand_loads = 0
        self.started = time.perf_counter()
        self.cpu_started = time.process_time()

    async def wait(self) -> None:
        if not self.finished:
            await self.done.wait()

    async def run(self) -> None:
        """The background load: every customer, a chunk at a time, the loop free between chunks."""
        loop = asyncio.get_running_loop()
        after = ""
        loaded = 0
        while True:
            try:
                accounts = sorted(self.state.accounts) if self.filtered else None
                chunk = await loop.run_in_executor(
                    None, load_customers, self.engine, int(time.time()), after, self.chunk, None, None, accounts
                )
            except Exception:  # the database went away for a moment: the same chunk again
                log.exception("customer load: chunk after %s failed; retrying", after or "the start")
                await asyncio.sleep(1.0)
                continue
            loaded += self._install(chunk)
            if len(chunk.customers) < self.chunk:
                break
            after = chunk.last_id
            await asyncio.sleep(0)
        self.finished = True
        self.state.customers_seen = None
        self._holds.clear()
        self.done.set()
        release_freed_heap()
        log.info(
            "customers loaded in %.2f s, %.2f s of CPU (%d customers, %d loaded on demand first)",
            time.perf_counter() - self.started,
            time.process_time() - self.cpu_started,
            len(self.state.customers),
            self.on_demand_loads,
        )

    def _install(self, chunk: CustomerChunk) -> int:
        """Install the customers of `chunk` not installed yet (nor deleted since): the first copy wins."""
        seen = self.state.customers_seen
        installed = 0
        for customer in chunk.customers:
            if customer.id in self.state.customers or (seen is not None and customer.id in seen):
                continue
            if customer.account_id not in self.state.accounts:  # a partition handed back meanwhile
                continue
            for hold in self._holds.get(customer.id, ()):
                if self.state.holds.get(hold.id) is hold:  # still open
                    customer.held_nano += hold.remaining_nano
            set_marks(self.state, customer, chunk.last_events)
            self.state.add_customer(customer)
            installed += 1
        return installed

    async def _ensure(self, key: _Key, **query: Any) -> None:
        """Load one customer (by id, or by account, mode and external id), once however many wait.
        The read runs in a task of its own: a caller cancelled meanwhile does not cancel it for
        the others (and a failed read is for its waiters to see; the next call reads again)."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._load_one(query))
            self._inflight[key] = task
            task.add_done_callback(lambda done: (self._inflight.pop(key, None), done.cancelled() or done.exception()))
        await asyncio.shield(task)

    async def _load_one(self, query: dict[str, Any]) -> None:
        loop = asyncio.get_running_loop()
        chunk = await loop.run_in_executor(None, lambda: load_customers(self.engine, int(time.time()), **query))
        self.on_demand_loads += self._install(chunk)

    async def ensure_id(self, customer_id: str) -> None:
        if self.finished or customer_id in self.state.customers:
            return
        seen = self.state.customers_seen
        if seen is not None and customer_id in seen:  # installed, then deleted: gone
            return
        await self._ensure(("id", customer_id), ids=[customer_id])

    async def ensure_external(self, account_id: str, livemode: bool, external_id: str) -> None:
        if self.finished or (account_id, livemode, external_id) in self.state.customers_by_external:
            return
        key = ("ext", account_id, "1" if livemode else "0", external_id)
        await self._ensure(key, external=(account_id, livemode, external_id))

    async def before(self, method: str, request: Any) -> None:
        """Before a call runs while the customers load: its customer loaded, or the whole load done."""
        if method not in ON_DEMAND or not await self._named(method, request):
            await self.wait()

    async def _named(self, method: str, request: Any) -> bool:
        """Load the customer `request` names; False when it cannot tell which (then the call waits)."""
        if method == "SettleLeaseReports":
            return True  # each report waits for its own lease's customer (`before` per report)
        if method in ("Settle", "ExtendHold", "SettleLeaseCalls"):
            hold = self.state.holds.get((request.lease_id if method == "SettleLeaseCalls" else request.request_id)[:64])
            if hold is None:  # settled, expired or unknown: its paths may read the database
                return False
            if hold.customer_id:
                await self.ensure_id(hold.customer_id)
            return True
        if method == "CountRequest":
            if not request.customer_rpm or not request.customer_ref:
                return True
            if request.customer_ref.startswith("ext:"):
                return False
            await self.ensure_id(request.customer_ref[:4096])
            return True
        call = request.call if method == "AcquireLease" else request
        if call.client_token:  # its customer is in its claims, read by the call: wait
            return False
        ref = call.customer_ref[:4096] or ("ext:" + call.user[:4096] if call.user else "")
        if not ref:
            return True
        if not ref.startswith("ext:"):
            await self.ensure_id(ref)
            return True
        key = self.state.keys_by_id.get(call.key_id[:64]) if call.key_id else None
        if key is None and call.api_key:
            key = self.state.keys_by_hash.get(hash_secret(call.api_key))
        if key is None:  # no such key here (or another core's, with `fair`): refused before any customer
            return True
        await self.ensure_external(key.account_id, key.livemode, ref[4:])
        return True
