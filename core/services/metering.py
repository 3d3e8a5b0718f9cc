"""The per-call path: Authorize (a durable hold) and Settle (post ≤ hold, record usage), and the
expiry of holds. The lease path (AcquireLease, the lease reports) is leases.py, which shares
`decided`, `hold_durably`, `replayed_durably` and `persist` with it."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select

from core.domain.calls import CallRequest
from core.domain.entities import OUTCOMES, Denial, Hold, Outcome, SettleResult, record
from core.domain.limits import effective, request_layers
from core.domain.metering import Admission, SettlePlan
from core.domain.ratelimit import Layer, Status
from core.domain.state import State
from core.services.core import Core, Principal
from core.services.wallets import given_back_nano
from core.store.loader import load_expired_hold
from core.store.tables import USAGE
from ringside_server.errors import RingsideError
from ringside_server.money import Usage

log = logging.getLogger(__name__)
T = TypeVar("T")


@record  # one per Settle: a frozen dataclass's `__init__` was ~5 % of a settle's event-loop samples
class SettleCall:
    request_id: str
    usage: Usage
    outcome: Outcome
    usage_estimated: bool
    upstream_model: str


# How long after a lease's admission window ends its edge's report (retired) may take to land.
LEASE_REPORT_GRACE_S = 0.3


async def decided(core: Core, decide: Callable[[], T | Denial]) -> T | Denial:
    """`decide()`; a rate-limit refusal that only open leases' unsure slots cause is decided again
    as their reports land, until they are all known (bounded: their admission windows plus a report
    interval; DECISIONS 15, never fewer than the limit admitted). Below the limit nothing waits."""
    decision = decide()
    if not isinstance(decision, Denial) or decision.settles_by is None:
        return decision
    deadline = min(decision.settles_by, core.clock() + core.meter.lease_window_s) + LEASE_REPORT_GRACE_S
    while isinstance(decision, Denial) and decision.settles_by is not None:
        left = deadline - core.clock()
        if left <= 0:
            break
        await core.rate_freed.wait(left)
        decision = decide()
    return decision


async def authorize(core: Core, request: CallRequest) -> Admission | Denial:
    """Admit in memory (exact under concurrency), then make the hold durable before answering."""
    if core.ip_blocks is not None:
        await core.ip_blocks.ready(request.client_ip)
    decision = await decided(core, functools.partial(core.meter.admit, request))
    if isinstance(decision, Denial):
        if decision.records:
            await _persist_refusal_events(core, decision)
        return decision
    if decision.replayed:
        await replayed_durably(core, decision)
    else:
        await hold_durably(core, decision)
    return decision


async def replayed_durably(core: Core, decision: Admission) -> None:
    """An Authorize (an AcquireLease) sent again under its request id (lease id) — its first answer
    cut off — is answered with the hold (lease) it created, once that is durable: the writer commits
    in order, so a fenced empty write queued now lands after the hold's own (a hold still being
    written by the first attempt, or adopted from a dead core and durable already). A hold whose
    write failed is gone: 503."""
    hold = decision.hold
    try:
        await core.writer.write([], accounts=(hold.account_id,))
    except Exception:
        raise RingsideError("service_unavailable", "Ringside could not record this call; retry.") from None
    if core.state.holds.get(hold.id) is not hold:
        raise RingsideError("service_unavailable", "Ringside could not record this call; retry.")


async def count_request(
    core: Core, counted_as: Principal | None, client_ip: str, customer_ref: str | None = None, request_id: str = ""
) -> Status | Denial:
    """One request that is not a model call, against its IP's layer and, authenticated, its Client
    Token's and its account's (DECISIONS 15); exact for every edge at once. With `customer_ref`
    (count_tokens: a model route that makes no call) also against its customer's RPM. Asked again
    under its `request_id`, answered as first and counted once (core/domain/recent_counts.py)."""
    account = (counted_as.account_id, counted_as.livemode) if counted_as is not None else None
    token_id = counted_as.key_id if counted_as is not None and counted_as.customer_id else ""
    layers = request_layers(core.meter.rate_defaults, client_ip, account, token_id)
    if counted_as is not None and customer_ref is not None:
        layers += customer_rpm_layer(core.state, counted_as, customer_ref)
    if core.ip_blocks is not None:
        await core.ip_blocks.ready(client_ip)
    return await decided(core, functools.partial(core.meter.count_request, layers, request_id))


def customer_rpm_layer(state: State, counted_as: Principal, customer_ref: str) -> list[Layer]:
    """The RPM layer of the customer a request names (a Client Token's own, else FC-Customer's), as
    its admission would count it; none for an unknown customer or one without an RPM limit."""
    ref = counted_as.customer_id or customer_ref
    customer = state.find_customer(counted_as.account_id, counted_as.livemode, ref) if ref else None
    rpm = effective(state, customer).rate_limit_rpm if customer is not None else None
    if customer is None or rpm is None:
        return []
    return [Layer("customer_rate_limit_exceeded", ("customer", customer.id), rpm)]


async def _persist_refusal_events(core: Core, denial: Denial) -> None:
    """The first refusal of a period fires an event: durable before the 402 is answered (once
    queued, it lands even if the caller is gone)."""
    try:
        await core.writer.write(denial.records)
    except Exception:
        log.exception("could not persist the events of a refusal (%s)", denial.code)


async def hold_durably(core: Core, decision: Admission) -> None:
    """Persist a new hold or lease (admission already reserved it in memory; a write that cannot
    land releases it). If the caller goes away meanwhile (a deadline, a shutdown), it never learns
    the hold's id, so once durable the hold is voided instead of waiting to expire."""
    abandoned = False

    def void_if_abandoned() -> None:
        if abandoned:
            core.spawn(_void(core, decision.hold))

    def release(error: BaseException) -> None:
        core.meter.release(decision)
        if not isinstance(error, asyncio.CancelledError):
            log.error("could not persist hold %s: %r", decision.hold.id, error)

    try:
        await core.writer.write_then_apply(decision.records, void_if_abandoned, release)
    except asyncio.CancelledError:
        abandoned = True
        raise
    except Exception:
        raise RingsideError("service_unavailable", "Ringside could not record this call; retry.") from None


async def _void(core: Core, hold: Hold) -> None:
    plan = (
        core.meter.plan_close_lease(hold)
        if hold.kind == "lease"
        else core.meter.plan_settle(hold, Usage(), "failed", False, "")
    )
    with contextlib.suppress(Exception):
        await persist(core, hold, plan)


async def settle(core: Core, call: SettleCall) -> SettleResult:
    if call.outcome not in OUTCOMES:
        raise RingsideError("invalid_request", f"outcome must be one of {', '.join(OUTCOMES)}.", "outcome")
    state = core.state
    hold = state.holds.get(call.request_id)
    if hold is not None:
        if hold.settling:
            raise RingsideError("conversation_locked", f"{call.request_id} is being settled already.")
        plan = core.meter.plan_settle(hold, call.usage, call.outcome, call.usage_estimated, call.upstream_model)
        return await persist(core, hold, plan)
    done = state.settled.get(call.request_id)
    if done is not None:
        return SettleResult(
            done.cost_nano,
            done.billable_nano,
            done.posted_nano,
            done.unbilled_nano,
            done.late,
            done.wallet_balance_nano,
            replayed=True,
        )
    expired = state.expired.get(call.request_id)
    if expired is not None:
        return await _late_settle(core, expired, call)
    return await _settled_long_ago(core, call)


async def _late_settle(core: Core, hold: Hold, call: SettleCall) -> SettleResult:
    """Correct an expired hold's posting. From a wallet, refunds of that posting already given count
    toward the difference (all that comes back for a call stays within its debit), so the refund
    endpoint is kept off this call (`core.refunding`) from that read until the correction is applied."""
    if hold.settling or hold.id in core.refunding:
        raise RingsideError("conversation_locked", f"{call.request_id} is being settled already.")
    if not hold.payer.endswith(":wallet"):
        plan = core.meter.plan_late_settle(hold, call.usage, call.outcome, call.usage_estimated, call.upstream_model)
        return await persist(core, hold, plan)
    core.refunding.add(hold.id)
    try:
        loop = asyncio.get_running_loop()
        given_back = await loop.run_in_executor(None, given_back_nano, core.engine, hold.payer, hold.id)
    except BaseException:
        core.refunding.discard(hold.id)  # nothing written: a cancelled caller's settle is retried
        raise
    plan = core.meter.plan_late_settle(
        hold, call.usage, call.outcome, call.usage_estimated, call.upstream_model, given_back
    )
    return await persist(core, hold, plan, finished=lambda: core.refunding.discard(hold.id))


def _nothing() -> None:
    return None


async def persist(core: Core, hold: Hold, plan: SettlePlan, finished: Callable[[], None] = _nothing) -> SettleResult:
    """Write a plan; the writer applies it to memory right after its commit, so a caller cancelled
    mid-commit cannot leave the database ahead of memory. `finished` runs once it landed or failed."""
    hold.settling = True

    def apply() -> SettleResult:
        hold.settling = False
        finished()
        core.meter.apply(plan)
        return plan.result

    def failed(error: BaseException) -> None:
        hold.settling = False
        finished()
        if not isinstance(error, asyncio.CancelledError):
            log.error("could not persist the settlement of %s: %r", hold.id, error)

    try:
        return await core.writer.write_then_apply(plan.records, apply, failed)
    except asyncio.CancelledError:
        raise
    except Exception:
        raise RingsideError("service_unavailable", "Ringside could not record this settle; retry.") from None


async def _settled_long_ago(core: Core, call: SettleCall) -> SettleResult:
    """A settle repeated after the in-memory record was forgotten (or after a restart)."""

    def lookup() -> tuple[int, int, int, int, str] | None:
        u = USAGE.c
        with core.engine.connect() as connection:
            row = connection.execute(
                select(u.cost_nano, u.billable_nano, u.posted_nano, u.unbilled_nano, u.status).where(
                    u.request_id == call.request_id
                )
            ).first()
        return None if row is None else (row[0], row[1], row[2], row[3], row[4])

    loop = asyncio.get_running_loop()
    row = await loop.run_in_executor(None, lookup)
    if row is None:
        raise RingsideError("not_found", f"No such call: '{call.request_id}'.", "request_id")
    if row[4] == "expired":
        # Expired before a restart: reload the hold's terms and book the late settle.
        hold = await loop.run_in_executor(None, load_expired_hold, core.engine, call.request_id)
        if hold is None:
            raise RingsideError("not_found", f"No expired hold for '{call.request_id}'.", "request_id")
        if core.state.expired.get(hold.id) is None:
            core.state.expired.put(hold.id, hold)
        return await settle(core, call)
    return SettleResult(row[0], row[1], row[2], row[3], row[4].startswith("late_"), replayed=True)


async def extend(core: Core, request_id: str) -> int:
    hold = core.state.holds.get(request_id)
    if hold is None or hold.settling:
        return 0
    extension = core.meter.extend(hold)
    await core.writer.write([extension], accounts=(hold.account_id,))  # fenced on its account's partition
    return extension.expires_at


async def expire_due(core: Core) -> int:
    """Post every overdue hold at its reserved amount (a lease at its unreported remainder).

    Every plan is made at once, before the first await, with its hold marked settling: a report or
    settle arriving while the expiries commit is refused (409, retried) instead of being posted on
    top of a remainder computed before it. The writes then share group commits."""
    due = core.state.due_holds(core.now())
    plans = []
    for hold in due:
        hold.settling = True  # now, not when its task starts: nothing may post against it meanwhile
        plans.append((hold, core.meter.plan_expire(hold)))
    results = await asyncio.gather(*(persist(core, hold, plan) for hold, plan in plans), return_exceptions=True)
    for (hold, _), result in zip(plans, results, strict=True):
        if isinstance(result, BaseException):
            core.state.schedule_expiry(hold)  # try again on the next sweep
        elif core.metrics is not None:
            core.metrics.holds_expired.labels(hold.kind).inc()
    return len(due)


async def run_expiry(core: Core, interval_s: float = 1.0) -> None:
    while True:
        try:
            expired = await expire_due(core)
            core.meter.limiter.sweep(core.now())
            if core.metrics is not None:
                leases = sum(1 for hold in core.state.holds.values() if hold.kind == "lease")
                core.metrics.open_holds.labels("lease").set(leases)
                core.metrics.open_holds.labels("call").set(len(core.state.holds) - leases)
            if expired:
                log.info("posted %d expired holds at their reserved amounts", expired)
        except Exception:
            log.exception("hold expiry sweep failed")
        await asyncio.sleep(interval_s)
