"""The per-call path: Authorize (a durable hold) and Settle (post ≤ hold, record usage)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.domain.calls import CallRequest
from core.domain.entities import OUTCOMES, Denial, Hold, LeaseAdmission, Outcome, SettleResult, record
from core.domain.limits import effective, request_layers
from core.domain.metering import Admission, SettlePlan
from core.domain.ratelimit import Layer, Status
from core.domain.requests import RequestLogEntry
from core.domain.settlement import FinishedCall
from core.domain.state import State
from core.services.core import Core, Principal
from core.services.requests import Caller, kept_entries, write_entries
from core.services.wallets import given_back_nano
from core.store.loader import expired_lease_calls, load_expired_hold
from core.store.tables import HOLDS, USAGE
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


async def _decided(core: Core, decide: Callable[[], T | Denial]) -> T | Denial:
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
    decision = await _decided(core, functools.partial(core.meter.admit, request))
    if isinstance(decision, Denial):
        if decision.records:
            await _persist_refusal_events(core, decision)
        return decision
    if decision.replayed:
        await _replayed_durably(core, decision)
    else:
        await _hold_durably(core, decision)
    return decision


async def _replayed_durably(core: Core, decision: Admission) -> None:
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
    return await _decided(core, functools.partial(core.meter.count_request, layers, request_id))


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


async def _hold_durably(core: Core, decision: Admission) -> None:
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
        await _persist(core, hold, plan)


async def settle(core: Core, call: SettleCall) -> SettleResult:
    if call.outcome not in OUTCOMES:
        raise RingsideError("invalid_request", f"outcome must be one of {', '.join(OUTCOMES)}.", "outcome")
    state = core.state
    hold = state.holds.get(call.request_id)
    if hold is not None:
        if hold.settling:
            raise RingsideError("conversation_locked", f"{call.request_id} is being settled already.")
        plan = core.meter.plan_settle(hold, call.usage, call.outcome, call.usage_estimated, call.upstream_model)
        return await _persist(core, hold, plan)
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
        return await _persist(core, hold, plan)
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
    return await _persist(core, hold, plan, finished=lambda: core.refunding.discard(hold.id))


def _nothing() -> None:
    return None


async def _persist(core: Core, hold: Hold, plan: SettlePlan, finished: Callable[[], None] = _nothing) -> SettleResult:
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
    results = await asyncio.gather(*(_persist(core, hold, plan) for hold, plan in plans), return_exceptions=True)
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


MAX_LEASE_CALLS_PER_REPORT = 1000


async def acquire_lease(core: Core, request: CallRequest, calls: int, lease_id: str = "") -> Admission | Denial | None:
    """The fast path's reservation: durable before the edge admits anything against it. Asked again
    under the `lease_id` its caller chose, the lease granted first, once it is durable."""
    if core.ip_blocks is not None:
        await core.ip_blocks.ready(request.client_ip)
    decision = await _decided(core, functools.partial(core.meter.acquire_lease, request, calls, lease_id))
    if decision is None or isinstance(decision, Denial):
        return decision
    if decision.replayed:
        await _replayed_durably(core, decision)
        return decision
    try:
        await _hold_durably(core, decision)
    except RingsideError:
        if lease_id and await _hold_exists(core, lease_id):
            # A lease closed (or posted) long ago, no longer in memory: its id is not for a new one.
            raise RingsideError(
                "invalid_request", "That lease id names another lease, or one no longer open.", "lease_id"
            ) from None
        raise
    if core.metrics is not None:
        core.metrics.leases_granted.inc()
    return decision


async def _hold_exists(core: Core, hold_id: str) -> bool:
    def lookup() -> bool:
        with core.engine.connect() as connection:
            return connection.execute(select(HOLDS.c.id).where(HOLDS.c.id == hold_id)).first() is not None

    try:
        return await asyncio.get_running_loop().run_in_executor(None, lookup)
    except Exception:
        return False


async def _record_lease_calls(
    core: Core,
    lease: Hold,
    calls: list[FinishedCall],
    fresh: list[LeaseAdmission],
    close: bool = False,
    entries: list[RequestLogEntry] | None = None,
) -> int:
    """The report's new admissions, its finished calls, its request-log entries and, when it closes
    the lease, the release of what the lease did not use, in one write (one commit per report: a
    closing report that carried calls was two, one after the other — at low rates a lease closes
    every second or so per caller; the entries were a RecordRequests call and a commit of their own)."""
    entries = entries or []
    plan = core.meter.plan_lease_calls(lease, calls)
    # A close's records (the release, the state change) do not depend on the calls; what it releases
    # in memory is what the lease has left once they are applied, so that is read at apply time.
    closing = core.meter.plan_close_lease(lease) if close else None
    records = [
        *fresh,
        *(plan.records if plan.reported else []),
        *(closing.records if closing is not None else []),
        *entries,
    ]
    if not records:
        return 0

    def apply() -> None:
        if fresh or plan.reported:  # as the two writes did: the admissions, then the calls
            core.meter.admit_calls(lease, fresh)
        if plan.reported:
            core.meter.apply(plan)
        if closing is not None:
            closing.held_release = lease.remaining_nano
            core.meter.apply(closing)

    try:
        await core.writer.write_then_apply(records, apply)
    except IntegrityError:
        await write_entries(core, entries)
        if fresh:
            await core.writer.write_then_apply(list(fresh), functools.partial(core.meter.admit_calls, lease, fresh))
        # A report repeated after a restart forgot which calls were recorded: go call by call and
        # skip those the database already holds (the reload counted them in the lease's consumption).
        recorded = 0
        for call in calls:
            single = core.meter.plan_lease_calls(lease, [call])
            if not single.reported:
                continue
            try:
                await core.writer.write_then_apply(single.records, functools.partial(core.meter.apply, single))
            except IntegrityError:
                lease.reported.add(call.request_id)
                continue
            recorded += 1
        if close:
            closed = core.meter.plan_close_lease(lease)
            await core.writer.write_then_apply(closed.records, lambda: core.meter.apply(closed))
        return recorded
    return len(plan.reported)


async def settle_lease_calls(
    core: Core,
    lease_id: str,
    calls: list[FinishedCall],
    close: bool,
    admitted: list[LeaseAdmission] | None = None,
    retired: bool = False,
    entries: list[tuple[Caller, RequestLogEntry]] | None = None,
) -> tuple[int, bool, int]:
    """Record the calls admitted under a lease since the last report, then those finished, then
    close it if asked (or, `retired`, give back the rate-limit slots no call took: its edge admits
    no more under it); the request-log `entries` riding the report (those of the lease's tenant) go
    in the same write. → (recorded, closed, entries recorded). A report for an expired lease
    corrects its calls."""
    admitted = admitted or []
    if len(calls) > MAX_LEASE_CALLS_PER_REPORT or len(admitted) > MAX_LEASE_CALLS_PER_REPORT:
        raise RingsideError("invalid_request", f"At most {MAX_LEASE_CALLS_PER_REPORT} calls per report.", "calls")
    lease = core.state.holds.get(lease_id)
    if lease is None or lease.kind != "lease":
        recorded = await _settle_late_lease_calls(core, lease_id, calls)
        rows = kept_entries(core, entries, await _late_tenant(core, lease_id)) if entries else []
        await write_entries(core, rows)
        return recorded, True, len(rows)
    rows = kept_entries(core, entries or [], (lease.account_id, lease.livemode))
    if lease.settling:
        raise RingsideError("conversation_locked", f"Lease {lease_id} is being settled already.")
    lease.settling = True

    async def record_then_close() -> tuple[int, bool, int]:
        # Each write applies its own memory change (the writer does); the sequence runs in a task
        # of its own so that the lease stays marked settling until the last of its writes landed.
        try:
            fresh = core.meter.new_admissions(lease, admitted)
            recorded = await _record_lease_calls(core, lease, calls, fresh, close, rows)
            if retired and not close:
                core.meter.retire_lease(lease)
        except RingsideError:
            raise
        except Exception:
            log.exception("could not persist the report of lease %s", lease_id)
            raise RingsideError("service_unavailable", "Ringside could not record these calls; retry.") from None
        finally:
            lease.settling = False
            core.rate_freed.fire()  # what a refusal waits on (`_decided`)
        return recorded, close, len(rows)

    return await asyncio.shield(core.spawn(record_then_close()))


def key_authenticates(core: Core, secret: str) -> bool:
    """Whether an API key authenticates now, as VerifyApiKey answers it (a report confirming its
    lease's key for the edge: no VerifyApiKey call of its own)."""
    return core.meter.authenticate(secret) is not None


async def _late_tenant(core: Core, lease_id: str) -> tuple[str, bool]:
    """The tenant of a lease no longer open whose report carries request-log entries (they are kept
    only for it); a lease id no hold has is no tenant's: none of its entries is kept."""
    hold = core.state.holds.get(lease_id) or core.state.expired.get(lease_id)
    if hold is not None:
        return hold.account_id, hold.livemode

    def lookup() -> tuple[str, bool]:
        with core.engine.connect() as connection:
            row = connection.execute(select(HOLDS.c.account_id, HOLDS.c.livemode).where(HOLDS.c.id == lease_id)).first()
        return (row.account_id, row.livemode) if row is not None else ("", False)

    return await asyncio.get_running_loop().run_in_executor(None, lookup)


async def _settle_late_lease_calls(core: Core, lease_id: str, calls: list[FinishedCall]) -> int:
    """Calls reported for a lease no longer open. Closed: nothing to do (its calls were all
    reported before it closed). Expired: each call is corrected to its actual amount, or posted if
    the expiry released its slot (API.md "Holds, expiry, late settles")."""
    if not calls:
        return 0
    loop = asyncio.get_running_loop()
    lease = core.state.expired.get(lease_id)
    if lease is None or lease.kind != "lease":
        lease = await loop.run_in_executor(None, load_expired_hold, core.engine, lease_id)
        if lease is None or lease.kind != "lease":
            log.warning("%d calls reported for lease %s, which is closed or unknown", len(calls), lease_id)
            return 0
        existing = core.state.expired.get(lease_id)
        if existing is not None and existing.kind == "lease":
            lease = existing  # loaded meanwhile by another report
        else:
            core.state.expired.put(lease_id, lease)
    if lease.settling:
        raise RingsideError("conversation_locked", f"Lease {lease_id} is being settled already.")
    lease.settling = True
    try:
        released, recorded = await loop.run_in_executor(
            None, expired_lease_calls, core.engine, [call.request_id for call in calls]
        )
    except BaseException:
        lease.settling = False
        raise
    plan = core.meter.plan_late_lease_calls(lease, calls, released, recorded)
    if not plan.reported:
        lease.settling = False
        return 0
    await _persist(core, lease, plan)
    return len(plan.reported)
