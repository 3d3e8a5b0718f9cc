"""Closing billing periods (API.md "Budgets, tiers, periods", "Holds, expiry, late settles").

The current period is a function of the clock, so admission, budgets, `budget_status` and the
threshold events (keyed by period: core/domain/events.py) switch at the boundary by themselves.
Closing records each ended period once: when no hold authorized in it is still open, it writes the
customer's immutable period record and `customer.period_closed` in one commit. The unique
(customer, period_start) index and one close at a time make re-runs and late runs harmless.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from sqlalchemy import Connection

from core.domain import events
from core.domain.billing import PeriodRecord, ended_periods
from core.domain.entities import Customer
from core.services.core import Core, Principal, require_customer, require_scope
from core.services.pages import DEFAULT_LIMIT, MAX_LIMIT
from core.store import billing as store
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
from ringside_server.usd import nano_to_usd

MAX_CLOSE_LIMIT = 1000


@dataclass(frozen=True, slots=True)
class CloseResult:
    closed: int
    waiting: int
    has_more: bool


def _measure(connection: Connection, customer: Customer, start: int, end: int, now: int) -> PeriodRecord:
    sums = store.usage_sums(connection, [customer.id], start, [customer.account_id])
    cost, requests, input_tokens, output_tokens = sums[customer.id]
    billed = store.billable(connection, [customer.id], start)[customer.id]
    return PeriodRecord(
        new_sortable_id("per"),
        customer.account_id,
        customer.livemode,
        customer.id,
        start,
        end,
        cost,
        billed,
        requests,
        input_tokens,
        output_tokens,
        now,
    )


def period_data(period: PeriodRecord) -> dict[str, object]:
    """`data.period` of `customer.period_closed` (and the API's object, minus its envelope)."""
    return {
        "id": period.id,
        "object": "billing_period",
        "customer_id": period.customer_id,
        "livemode": period.livemode,
        "period_start": period.period_start,
        "period_end": period.period_end,
        "total_cost_usd": nano_to_usd(period.cost_nano),
        "total_billable_usd": nano_to_usd(period.billable_nano),
        "total_margin_usd": nano_to_usd(period.margin_nano),
        "request_count": period.request_count,
        "input_tokens": period.input_tokens,
        "output_tokens": period.output_tokens,
        "closed_at": period.closed_at,
    }


def _candidates(core: Core, through: dict[str, int], limit: int) -> tuple[list[tuple[Customer, int, int]], int, bool]:
    """Up to `limit` ended periods to close now, oldest first per customer → (customer, start, end),
    the periods waiting on open holds, and whether more remain (on the event loop: reads memory)."""
    now = core.now()
    open_holds = {(h.customer_id, h.period_start) for h in core.state.holds.values() if h.customer_id}
    chosen: list[tuple[Customer, int, int]] = []
    waiting = 0
    for customer in sorted(core.state.customers.values(), key=lambda c: c.id):
        anchor = customer.billing_anchor_day
        for start, end in ended_periods(customer.created, anchor, through.get(customer.id, 0), now):
            if len(chosen) >= limit:
                return chosen, waiting, True
            if (customer.id, start) in open_holds:
                waiting += 1  # later periods wait too: a customer's periods close in order
                break
            chosen.append((customer, start, end))
    return chosen, waiting, False


async def close_periods(core: Core, limit: int) -> CloseResult:
    """Close up to `limit` ended periods whose holds are all resolved (internal: the rollover)."""
    if not 1 <= limit <= MAX_CLOSE_LIMIT:
        raise RingsideError("invalid_request", f"limit must be 1..{MAX_CLOSE_LIMIT}.", "limit")
    loop = asyncio.get_running_loop()
    async with core.billing_lock:

        def closed_through() -> dict[str, int]:
            with core.engine.connect() as connection:
                return store.closed_through(connection)

        chosen, waiting, has_more = _candidates(core, await loop.run_in_executor(None, closed_through), limit)
        now = core.now()

        def measure() -> list[PeriodRecord]:
            with core.engine.connect() as connection:
                return [_measure(connection, customer, start, end, now) for customer, start, end in chosen]

        periods = await loop.run_in_executor(None, measure)
        records: list[object] = []
        for (customer, start, _), period in zip(chosen, periods, strict=True):
            records.append(period)
            records += events.customer_event(
                core.state,
                customer,
                "customer.period_closed",
                now,
                {"period": period_data(period)},
                trigger_key=str(start),
                spent_nano=period.billable_nano,
            )
        if records:
            await core.writer.write(records)
    return CloseResult(len(periods), waiting, has_more)


async def list_periods(
    core: Core, principal: Principal, customer_ref: str, limit: int, starting_after: str, ending_before: str
) -> tuple[list[PeriodRecord], bool]:
    require_scope(principal, "api:read", customer_bound=True)
    customer = core.state.find_customer(principal.account_id, principal.livemode, customer_ref)
    if customer is None:
        raise RingsideError("customer_not_found", f"No such customer: '{customer_ref[:300]}'.", "id")
    require_customer(principal, customer.id, customer_ref)
    limit = limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise RingsideError("invalid_request", "limit must be between 1 and 100.", "limit")
    if starting_after and ending_before:
        raise RingsideError("invalid_request", "Use starting_after or ending_before, not both.", "starting_after")
    rows = await asyncio.get_running_loop().run_in_executor(
        None, store.periods, core.engine, customer.id, limit, starting_after, ending_before
    )
    page = rows[:limit]
    if ending_before:
        page.reverse()
    return page, len(rows) > limit
