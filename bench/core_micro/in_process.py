"""The core's services in this process: durable holds/s and durable settles/s through the group commit.

Phase 1 admits calls (``services.metering.authorize``: a hold and its pending transfer per call) and
phase 2 settles those holds (``services.metering.settle``: a post transfer, a cost transfer, a usage
record and the hold's state change per call), each with ``writers`` concurrent coroutines, for at most
``seconds`` each. Phase 3 is the edge's default path, leases: each writer acquires a lease of
``LEASE_CALLS`` calls, reports them admitted, then finished with the close, as the edge's report loop
does (its ops are calls made durable: admitted, posted, costed, usage recorded). Every write waits for
its commit, as the gRPC servicers do, so the rates are durable ones; the writer's commit count gives
the average batch (units per commit). CPU per op is this process's user + system time (the event
loop and the writer thread) over the ops: unlike the rate, it barely moves when the machine is shared.
"""

from __future__ import annotations

import asyncio
import collections
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path

from bench.loadgen import Percentiles
from core.domain.calls import CallRequest
from core.domain.entities import Denial, LeaseAdmission
from core.domain.metering import Admission
from core.domain.settlement import FinishedCall
from core.server import open_core, settle_heap
from core.services import accounts, customers
from core.services.core import Core, Principal
from core.services.leases import acquire_lease, settle_lease_calls
from core.services.metering import SettleCall, authorize, settle
from ringside_server.ids import new_sortable_id
from ringside_server.metering.leases import LEASE_CALLS
from ringside_server.money import Price, Usage
from ringside_server.settings import Settings

PRICE = Price(input=150_000_000, output=600_000_000)  # gpt-4o-mini's, nano-USD per million tokens
USAGE = Usage(input_tokens=12, output_tokens=16)
BUDGET_NANO = 10**17  # a cap far above what any run spends, so every admission checks the room


@dataclass(frozen=True)
class PhaseResult:
    """One phase: operations made durable, the rate, the writer's batching and each caller's wait."""

    name: str
    writers: int
    operations: int
    elapsed_s: float
    per_s: float
    commits: int
    average_batch: float
    latency: Percentiles | None
    cpu_us_per_op: float = 0.0


# An operation: how many ops it made durable (0: nothing left to do, stop this writer).
Operation = Callable[[], Awaitable[int]]


async def _phase(core: Core, name: str, writers: int, seconds: float, operation: Operation) -> PhaseResult:
    """Run ``operation`` from ``writers`` coroutines until ``seconds`` pass or it returns False."""
    latencies_s: list[float] = []
    done = [0]
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    commits_before, units_before = core.writer.commits, core.writer.units

    async def writer() -> None:
        while loop.time() < deadline:
            started = time.perf_counter()
            operations = await operation()
            if not operations:
                return
            done[0] += operations
            latencies_s.append(time.perf_counter() - started)

    started, cpu_started = time.perf_counter(), time.process_time()
    await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed_s, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    commits = core.writer.commits - commits_before
    units = core.writer.units - units_before
    return PhaseResult(
        name=name,
        writers=writers,
        operations=done[0],
        elapsed_s=elapsed_s,
        per_s=done[0] / elapsed_s,
        commits=commits,
        average_batch=units / commits if commits else 0.0,
        latency=Percentiles.of(latencies_s),
        cpu_us_per_op=cpu_s / done[0] * 1e6 if done[0] else 0.0,
    )


UNLIMITED_PER_MIN = 1_000_000_000


async def in_process(database_url: str, data_dir: Path, seconds: float, writers: int) -> list[PhaseResult]:
    """Open a core on ``database_url`` (migrated, empty), then run the authorize and settle phases."""
    # The account limit's default (60,000/min) is below what one core admits here: set it far above.
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        log_level="WARNING",
        rate_limit_account_per_min=UNLIMITED_PER_MIN,
        rate_limit_ip_per_min=UNLIMITED_PER_MIN,
    )
    core = await open_core(settings)
    try:
        new = await accounts.bootstrap(core)
        if new is None:
            raise RuntimeError("core_micro needs an empty database")
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write"}))
        customer, _ = await customers.create(
            core, principal, customers.CustomerInput(external_id="bench", budget_nano=BUDGET_NANO)
        )
        request = CallRequest(
            api_key=new.live_key.secret,
            customer_ref=customer.id,
            user="",
            model_ref="fc:openai/gpt-4o-mini",
            provider="openai",
            price=PRICE,
            input_tokens_bound=20,
            requested_output_tokens=16,
            model_max_output_tokens=16_384,
        )
        settle_heap()  # as the core's process does once it serves (core/server.py)
        held: collections.deque[str] = collections.deque()

        async def authorize_one() -> int:
            decision = await authorize(core, request)
            if isinstance(decision, Denial):
                raise RuntimeError(f"admission refused: {decision}")
            held.append(decision.hold.id)
            return 1

        async def settle_one() -> int:
            if not held:
                return 0
            call = SettleCall(held.popleft(), USAGE, "completed", False, "gpt-4o-mini")
            await settle(core, call)
            return 1

        async def lease_calls() -> int:
            lease = await acquire_lease(core, request, LEASE_CALLS)
            if not isinstance(lease, Admission):
                raise RuntimeError(f"lease refused: {lease}")
            return await _lease_round(core, lease)

        return [
            await _phase(core, "authorize (hold + pending transfer)", writers, seconds, authorize_one),
            await _phase(core, "settle (post + cost + usage + hold state)", writers, seconds, settle_one),
            await _phase(core, f"lease calls ({LEASE_CALLS} a lease, reported twice)", writers, seconds, lease_calls),
        ]
    finally:
        await core.writer.close()
        core.engine.dispose()


async def _lease_round(core: Core, lease: Admission) -> int:
    """Report every call of ``lease`` admitted, then finished with the close: the edge's two reports."""
    hold = lease.hold
    now = int(core.now())
    ids = [new_sortable_id("req") for _ in range(lease.lease_calls)]
    estimate = hold.amount_nano // max(1, lease.lease_calls)
    admitted = [LeaseAdmission(i, hold.id, hold.model_ref, hold.provider, estimate, now) for i in ids]
    await settle_lease_calls(core, hold.id, [], False, admitted)
    finished = [
        FinishedCall(i, hold.model_ref, hold.provider, PRICE, estimate, USAGE, "completed", False, "gpt-4o-mini")
        for i in ids
    ]
    recorded, _, _ = await settle_lease_calls(core, hold.id, finished, True)
    return recorded
