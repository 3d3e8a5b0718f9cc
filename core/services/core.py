"""The running core's shared parts, built once at start-up and handed to every service."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine

from core.domain.assistants import Positions
from core.domain.entities import Customer, has_scope
from core.domain.metering import Meter
from core.domain.retention import RetentionPolicy
from core.domain.state import State
from core.services.ownership import Ownership

if TYPE_CHECKING:
    from core.services.customer_load import CustomerLoad
from core.services.row_locks import RowLocks
from core.store.partition_leases import PartitionLeases
from core.store.writer import GroupCommitWriter
from ringside_server.errors import RingsideError
from ringside_server.netpolicy import AddressPolicy
from ringside_server.observability.metrics import CoreMetrics

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is calling: an account's key (account, mode, scopes) or the operator (admin)."""

    account_id: str = ""
    livemode: bool = False
    scopes: frozenset[str] = frozenset()
    key_id: str = ""
    admin: bool = False
    internal: bool = False
    # A Client Token: bound to this customer, it reads that customer's own objects and nothing else.
    customer_id: str = ""
    # A Client Token's minting key (empty for older tokens): the key its Assistants runs act as.
    minting_key_id: str = ""
    # A run's worker acting for a revoked key (`Key …` with x-ringside-end-run): it may only end
    # that run (core/services/assistants.py); every scope check refuses it.
    key_revoked: bool = False


def require_scope(principal: Principal, scope: str, customer_bound: bool = False) -> None:
    """An account's own key with `scope` (api:write includes api:read). The operator's admin key
    manages accounts, not what is in them: it has no account of its own to act in. A Client Token
    passes only where the operation is `customer_bound` (the service then keeps it to its customer)."""
    if principal.admin or not principal.account_id:
        raise RingsideError("insufficient_scope", "Use one of the account's keys for this, not the admin key.")
    if principal.key_revoked:
        raise RingsideError("invalid_api_key", "The key this work was started with is revoked.")
    if principal.customer_id and not customer_bound:
        raise RingsideError("endpoint_not_allowed", "A client token cannot call this; use a secret key on your server.")
    if not has_scope(principal.scopes, scope):
        raise RingsideError("insufficient_scope", f"This key lacks the {scope} scope.")


def require_customer(principal: Principal, customer_id: str, ref: str) -> None:
    """A Client Token sees its own customer only: any other is as if it did not exist (404)."""
    if principal.customer_id and principal.customer_id != customer_id:
        raise RingsideError("customer_not_found", f"No such customer: '{ref[:300]}'.", "id")


class Pulse:
    """Wakes every waiter at once each time it fires (no state kept between fires)."""

    def __init__(self) -> None:
        self._fired: asyncio.Future[None] | None = None

    def fire(self) -> None:
        if self._fired is not None and not self._fired.done():
            self._fired.set_result(None)
        self._fired = None

    async def wait(self, timeout_s: float) -> None:
        if self._fired is None:
            self._fired = asyncio.get_running_loop().create_future()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.shield(self._fired), timeout_s)


@dataclass(slots=True)
class Core:
    engine: Engine
    state: State
    writer: GroupCommitWriter
    meter: Meter
    clock: Callable[[], float] = time.time
    heartbeats: dict[tuple[str, str], float] = field(default_factory=dict)
    # Customer creates in flight per (account, mode, external_id): concurrent creates of one
    # external_id wait for the first instead of racing it.
    pending_creates: dict[tuple[str, bool, str], asyncio.Future[Customer]] = field(default_factory=dict)
    # Idempotency-Keys claimed by a request in flight → monotonic claim time (see services/idempotency.py).
    idempotency_claims: dict[tuple[str, bool, str, str], float] = field(default_factory=dict)
    idempotency_finished: int = 0
    # How long purged kinds are kept (core/domain/retention.py; settings RINGSIDE_RETENTION_*).
    retention: RetentionPolicy = field(default_factory=RetentionPolicy)
    # The day (since the epoch) before which this process has purged usage records; None until its
    # first purge, which looks back to the beginning (core/services/retention.py).
    usage_purged_before_day: int | None = None
    # Creation order of Assistants API objects (their lists and cursors)
    assistant_positions: Positions = field(default_factory=Positions)
    # gRPC channels to the other active cores by address (core/rpc/fanout.py's list calls), kept open.
    peer_channels: dict[str, Any] = field(default_factory=dict)
    # Debits being refunded right now (transfer ids): one refund of a debit at a time.
    refunding: set[str] = field(default_factory=set)
    # sha256 of the operator's admin key ("" = none): its POSTs take Idempotency-Keys too.
    admin_key_hash: str = ""
    # How long a batch's `24h` completion window lasts (RINGSIDE_BATCH_WINDOW_S; shorter in tests).
    batch_window_s: int = 86_400
    # Work that outlives a cancelled caller: a hold's void once durable, a lease report's sequence
    # of writes, pruning (see `spawn`). A single write and its memory change need none: the
    # writer applies it (store/writer.py `write_then_apply`).
    background: set[asyncio.Task[Any]] = field(default_factory=set)
    # Webhooks: where deliveries may connect, a lock for endpoint read-modify-writes, and the
    # signal the outbox relay waits on (set by the writer once an outbox entry is durable).
    webhook_policy: AddressPolicy = field(default_factory=AddressPolicy)
    webhook_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    outbox_written: asyncio.Event = field(default_factory=asyncio.Event)
    # Store files (issue 16): a read-modify-write of one attachment at a time (services/row_locks.py).
    store_file_locks: RowLocks = field(default_factory=RowLocks)
    # Billing: one period close or Stripe sync step at a time (each reads, then writes, its rows).
    billing_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    # Prometheus figures (RINGSIDE_CORE_METRICS_PORT); None: not kept.
    metrics: CoreMetrics | None = None
    # Fired when a lease report may have freed rate-limit room (services/leases.py; services/metering.py
    # `decided` waits on it).
    rate_freed: Pulse = field(default_factory=lambda: Pulse())
    # PostgreSQL: the partitions this core holds (core/store/partition_leases.py); None on SQLite.
    partition_leases: PartitionLeases | None = None
    # Their renewal (core/services/partitions.py `keep_partitions`): ends when one was lost.
    partition_renewal: asyncio.Task[None] | None = None
    # The accounts this core serves (core/services/ownership.py): all of them unless
    # RINGSIDE_CORE_SHARE=fair spreads the partitions over several active cores.
    ownership: Ownership = field(default_factory=lambda: Ownership(1))
    # Several active cores with an IP limit: IP windows lent and borrowed between cores
    # (core/services/ip_blocks.py); None: one core, today's path.
    ip_blocks: Any = None
    # A lazy start's customer load (core/services/customer_load.py); None: loaded whole at start.
    customer_load: CustomerLoad | None = None

    def spawn(self, coroutine: Coroutine[Any, Any, T]) -> asyncio.Task[T]:
        """Run `coroutine` in a task of its own, kept referenced until it ends."""
        task = asyncio.ensure_future(coroutine)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    def now(self) -> int:
        return int(self.clock())
