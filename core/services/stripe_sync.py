"""The Stripe usage sync's core side (API.md "Stripe"): settings, the per-customer cursor, runs.

The worker asks for a batch of planned pushes, sends them to Stripe, and reports what Stripe said.
A push is planned durably before it is sent (value and identifier), and the cursor moves only when
Stripe has it, so a crash anywhere resends the same event, which Stripe keeps once by identifier.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, replace

import orjson

from core.domain import billing, events
from core.domain.billing import (
    StripeSettings,
    SyncCursor,
    SyncCursorDeletion,
    SyncedCustomer,
    SyncRun,
    SyncRunDeletion,
)
from core.domain.entities import Customer
from core.services.core import Core, Principal, require_scope
from core.services.pages import page
from core.store import billing as store
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id

MAX_BATCH = 500
MAX_RUN_ID = 200
MAX_ERRORS_KEPT = 50
MAX_RUNS_LISTED = 1000
OUTCOMES = ("pushed", "duplicate", "failed")


@dataclass(frozen=True, slots=True)
class Push:
    customer: SyncedCustomer
    cursor: SyncCursor
    settings: StripeSettings


@dataclass(frozen=True, slots=True)
class Outcome:
    customer_id: str
    identifier: str
    outcome: str
    code: str = ""
    message: str = ""


async def put_settings(core: Core, principal: Principal, secret_key: str, event_name: str, kind: str) -> StripeSettings:
    require_scope(principal, "api:admin")
    kind = kind or "billable_cents"
    error = billing.settings_error(secret_key, event_name, kind, principal.livemode)
    if error is not None:
        raise RingsideError("invalid_request", *error)
    settings = StripeSettings(principal.account_id, principal.livemode, secret_key, event_name, kind, core.now())
    await core.writer.write([billing.StripeSettingsDeletion(principal.account_id, principal.livemode), settings])
    return settings


async def get_settings(core: Core, principal: Principal) -> StripeSettings:
    require_scope(principal, "api:admin")
    found = await asyncio.get_running_loop().run_in_executor(
        None, store.stripe_settings, core.engine, principal.account_id, principal.livemode
    )
    if not found:
        raise RingsideError("not_found", "No Stripe settings yet: PUT /v1/billing/stripe first.")
    return found[0]


def _check_run_id(run_id: str) -> None:
    if not run_id or len(run_id) > MAX_RUN_ID:
        raise RingsideError("invalid_request", f"run_id must be 1..{MAX_RUN_ID} characters.", "run_id")


def _new_run(run_id: str, settings: StripeSettings, now: int) -> SyncRun:
    return SyncRun(
        new_sortable_id("ssr"), run_id, settings.account_id, settings.livemode, "running", 0, 0, 0, 0, "[]", now, now, 0
    )


Tenants = dict[tuple[str, bool], StripeSettings]


@dataclass(frozen=True, slots=True)
class _BatchRead:
    customers: list[SyncedCustomer]
    has_more: bool
    cursors: dict[tuple[str, str], SyncCursor]
    billed: dict[str, int]
    sums: dict[str, tuple[int, ...]]
    runs: list[SyncRun]


def _read_batch(core: Core, tenants: Tenants, run_id: str, after: str, limit: int) -> _BatchRead:
    """The batch's customers and what it needs of them, from the database (in a worker thread).
    Not from the hot state: every write that sets or clears a Stripe id (create, update, deletion,
    erasure) is durable before it is applied or answered, and the customers read need not be in
    memory (a partition still loading, a lazy start). Kept: the tenants that sync, and with several
    active cores this core's accounts (each core plans its own; core/rpc/fanout.py merges them)."""

    def wanted(customer: SyncedCustomer) -> bool:
        key = (customer.account_id, customer.livemode)
        return key in tenants and core.ownership.serves_account(customer.account_id)

    with core.engine.connect() as connection:
        batch, has_more = store.synced_customers(connection, after, limit, wanted)
        ids = [c.id for c in batch]
        cursors = store.cursors(connection, ids)
        billed = store.billable(connection, ids, None)
        # Billable cents (the default) come from the ledger totals alone; only cost and tokens need
        # the usage records' sums, which grow with each customer's calls.
        summed = [c for c in batch if tenants[(c.account_id, c.livemode)].value_kind != "billable_cents"]
        sums = store.usage_sums(connection, [c.id for c in summed], None, {c.account_id for c in summed})
    runs = [] if after else store.runs_of(core.engine, run_id)
    return _BatchRead(batch, has_more, cursors, billed, sums, runs)


async def plan(core: Core, run_id: str, after: str, limit: int) -> tuple[list[Push], str, bool]:
    """Plan the next push of up to `limit` customers (by id, after `after`) → (pushes, last id, more)."""
    _check_run_id(run_id)
    if not 1 <= limit <= MAX_BATCH:
        raise RingsideError("invalid_request", f"limit must be 1..{MAX_BATCH}.", "limit")
    loop = asyncio.get_running_loop()
    async with core.billing_lock:
        tenants = {
            (s.account_id, s.livemode): s for s in await loop.run_in_executor(None, store.stripe_settings, core.engine)
        }
        read = await loop.run_in_executor(None, _read_batch, core, tenants, run_id, after, limit)
        batch = read.customers
        now = core.now()
        records: list[object] = []
        if not after:  # the run's first batch: a status row for every tenant that syncs (each
            # core its own accounts' with several active cores: core/rpc/fanout.py asks every core)
            seen = {(r.account_id, r.livemode) for r in read.runs}
            records += [
                _new_run(run_id, s, now)
                for key, s in tenants.items()
                if key not in seen and core.ownership.serves_account(s.account_id)
            ]
        pushes: list[Push] = []
        for customer in batch:
            settings = tenants[(customer.account_id, customer.livemode)]
            kind = settings.value_kind
            cursor = read.cursors.get((customer.id, kind)) or SyncCursor(
                customer.id, kind, customer.account_id, customer.livemode
            )
            cost, _, input_tokens, output_tokens = read.sums.get(customer.id, (0, 0, 0, 0))
            total = billing.units(kind, read.billed[customer.id], cost, input_tokens + output_tokens)
            planned = billing.plan(cursor, total, now)
            if planned is not cursor:
                records += [SyncCursorDeletion(customer.id, kind), planned]
            if planned.pending_units:
                pushes.append(Push(customer, planned, settings))
        if records:
            await core.writer.write(records)
    return pushes, (batch[-1].id if batch else after), read.has_more


def _failed_event(core: Core, customer: Customer, cursor: SyncCursor, outcome: Outcome, now: int) -> list[object]:
    extra = {
        "error": {"code": outcome.code, "message": outcome.message},
        "identifier": cursor.pending_identifier,
        "value": cursor.pending_units,
        "value_kind": cursor.value_kind,
    }
    key = f"{cursor.pending_identifier}:{outcome.code}"[:200]
    return events.customer_event(core.state, customer, "stripe.sync_failed", now, extra, key)


def _tally(run: SyncRun, cursor: SyncCursor, outcome: Outcome) -> SyncRun:
    if outcome.outcome == "pushed":
        return replace(run, events_pushed=run.events_pushed + 1, units_pushed=run.units_pushed + cursor.pending_units)
    if outcome.outcome == "duplicate":
        return replace(run, duplicates=run.duplicates + 1, units_pushed=run.units_pushed + cursor.pending_units)
    errors = orjson.loads(run.errors_json)[: MAX_ERRORS_KEPT - 1]
    errors.append({"customer_id": cursor.customer_id, "code": outcome.code, "message": outcome.message})
    return replace(run, failed=run.failed + 1, errors_json=orjson.dumps(errors).decode())


async def commit(core: Core, run_id: str, outcomes: list[Outcome], finish: bool) -> int:
    """Move the cursors of pushes Stripe has; record failures (and fire `stripe.sync_failed` once
    per failure of a push); finish the run's status rows when told."""
    _check_run_id(run_id)
    if len(outcomes) > MAX_BATCH or any(o.outcome not in OUTCOMES for o in outcomes):
        raise RingsideError("invalid_request", f"At most {MAX_BATCH} outcomes, each one of {OUTCOMES}.", "outcomes")
    loop = asyncio.get_running_loop()
    async with core.billing_lock:
        ids = [o.customer_id for o in outcomes]

        def read() -> tuple[dict[tuple[str, str], SyncCursor], list[SyncRun]]:
            with core.engine.connect() as connection:
                return store.cursors(connection, ids), store.runs_of(core.engine, run_id)

        cursors, run_rows = await loop.run_in_executor(None, read)
        pending = {c.pending_identifier: c for c in cursors.values() if c.pending_identifier}
        # Each core its own tenants' rows (several active cores: every core is asked, each commits
        # the outcomes of the customers it serves and finishes its tenants' runs).
        runs = {(r.account_id, r.livemode): r for r in run_rows if core.ownership.serves_account(r.account_id)}
        now = core.now()
        records: list[object] = []
        committed = 0
        for outcome in outcomes:
            cursor = pending.pop(outcome.identifier, None)
            customer = core.state.customers.get(outcome.customer_id)
            if cursor is None or customer is None or cursor.customer_id != outcome.customer_id:
                continue  # already recorded (a retried commit), or the customer is gone
            tenant = (cursor.account_id, cursor.livemode)
            run = runs.get(tenant) or _new_run(run_id, StripeSettings(*tenant, "", "", cursor.value_kind, now), now)
            runs[tenant] = _tally(run, cursor, outcome)
            if outcome.outcome == "failed":
                error = f"{outcome.code}: {outcome.message}"[: billing.MAX_ERROR]
                if error != cursor.last_error:
                    records += _failed_event(core, customer, cursor, outcome, now)
                updated = replace(cursor, last_error=error, updated=now)
            else:
                updated = billing.done(cursor, now)
                committed += 1
            records += [SyncCursorDeletion(cursor.customer_id, cursor.value_kind), updated]
        for tenant, run in runs.items():
            if finish and run.status == "running":
                run = replace(run, status="partial" if run.failed else "succeeded", finished=now)
            runs[tenant] = run
        records += [SyncRunDeletion(r.id) for r in runs.values()] + list(runs.values())
        await core.writer.write(records)
    return committed


async def list_syncs(
    core: Core, principal: Principal, limit: int, starting_after: str, ending_before: str
) -> tuple[list[SyncRun], bool, int, int]:
    """The tenant's runs, newest first → (page, has_more, lag seconds (-1: never), failing customers)."""
    require_scope(principal, "api:read")
    loop = asyncio.get_running_loop()
    runs = await loop.run_in_executor(
        None, store.sync_runs, core.engine, principal.account_id, principal.livemode, MAX_RUNS_LISTED
    )
    failing = await loop.run_in_executor(
        None, store.failing_customers, core.engine, principal.account_id, principal.livemode
    )
    finished = [r for r in runs if r.finished]
    lag = core.now() - finished[0].snapshot_at if finished else -1
    items, has_more = page(runs, lambda r: r.id, limit, starting_after, ending_before)
    return items, has_more, lag, failing
