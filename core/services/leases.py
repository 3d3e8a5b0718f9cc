"""The lease path: AcquireLease (a durable lease an edge admits calls against by itself) and the
edge's lease reports (its new admissions, its finished calls, its request-log entries, the close),
late reports for an expired lease corrected call by call. The per-call path is metering.py."""

from __future__ import annotations

import asyncio
import functools
import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from core.domain.calls import CallRequest
from core.domain.entities import Denial, Hold, LeaseAdmission
from core.domain.metering import Admission
from core.domain.requests import RequestLogEntry
from core.domain.settlement import FinishedCall
from core.services.core import Core
from core.services.metering import decided, hold_durably, persist, replayed_durably
from core.services.requests import Caller, kept_entries, write_entries
from core.store.loader import expired_lease_calls, load_expired_hold
from core.store.tables import HOLDS
from ringside_server.errors import RingsideError

log = logging.getLogger(__name__)

MAX_LEASE_CALLS_PER_REPORT = 1000


async def acquire_lease(core: Core, request: CallRequest, calls: int, lease_id: str = "") -> Admission | Denial | None:
    """The fast path's reservation: durable before the edge admits anything against it. Asked again
    under the `lease_id` its caller chose, the lease granted first, once it is durable."""
    if core.ip_blocks is not None:
        await core.ip_blocks.ready(request.client_ip)
    decision = await decided(core, functools.partial(core.meter.acquire_lease, request, calls, lease_id))
    if decision is None or isinstance(decision, Denial):
        return decision
    if decision.replayed:
        await replayed_durably(core, decision)
        return decision
    try:
        await hold_durably(core, decision)
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
            core.rate_freed.fire()  # what a refusal waits on (`decided`)
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
    await persist(core, lease, plan)
    return len(plan.reported)
