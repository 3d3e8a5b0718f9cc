"""Reads for billing periods and the Stripe sync (rare: straight from the database, off the call
path; every write goes through the group-commit writer)."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from sqlalchemy import Connection, Engine, Select, func, select, text

from core.domain import ledger
from core.domain.billing import PeriodRecord, StripeSettings, SyncCursor, SyncedCustomer, SyncRun
from core.store import usage_daily
from core.store.tables import (
    CUSTOMER_PERIODS,
    CUSTOMERS,
    LEDGER_TOTALS,
    STRIPE_CURSORS,
    STRIPE_SETTINGS,
    STRIPE_SYNC_RUNS,
    STRIPE_SYNCED_SQL,
)

STRIPE_SYNCED = text(STRIPE_SYNCED_SQL)


def closed_through(connection: Connection) -> dict[str, int]:
    """customer id → end of its last closed period."""
    p = CUSTOMER_PERIODS.c
    query = select(p.customer_id, func.max(p.period_end)).group_by(p.customer_id)
    return {customer_id: int(end) for customer_id, end in connection.execute(query)}


def _payers(customer_ids: list[str]) -> dict[str, str]:
    return {
        name: customer_id
        for customer_id in customer_ids
        for name in (ledger.customer_spend(customer_id), ledger.customer_wallet(customer_id))
    }


def billable(connection: Connection, customer_ids: list[str], period_start: int | None) -> dict[str, int]:
    """Posted to each customer (posts and expiries minus corrections), in one period or ever: read
    from the running ledger totals, so a Stripe sync's cost does not grow with the calls made."""
    lt = LEDGER_TOTALS.c
    payers = _payers(customer_ids)
    spent = dict.fromkeys(customer_ids, 0)
    in_period = [lt.period_start == period_start] if period_start is not None else []
    query = select(lt.ledger_account, lt.kind, func.sum(lt.debit_nano), func.sum(lt.credit_nano)).where(
        lt.ledger_account.in_(list(payers)), lt.kind.in_((*ledger.SPEND_KINDS, "correction")), *in_period
    )
    for payer, kind, debited, credited in connection.execute(query.group_by(lt.ledger_account, lt.kind)):
        spent[payers[payer]] += -int(credited) if kind == "correction" else int(debited)
    return spent


def usage_sums(
    connection: Connection, customer_ids: list[str], period_start: int | None, accounts: Collection[str]
) -> dict[str, tuple[int, ...]]:
    """customer → (cost, requests, input tokens, output tokens) of its usage (customers of
    `accounts`), from the daily aggregates: the same whether or not old usage records were purged."""
    return dict(usage_daily.customer_sums(connection, customer_ids, period_start, accounts))


def periods(
    engine: Engine, customer_id: str, limit: int, starting_after: str, ending_before: str
) -> list[PeriodRecord]:
    """A customer's closed periods, newest first, one more than `limit` to tell has_more."""
    p = CUSTOMER_PERIODS.c
    query = select(CUSTOMER_PERIODS).where(p.customer_id == customer_id)
    with engine.connect() as connection:
        for cursor, newer in ((starting_after, False), (ending_before, True)):
            if cursor:
                start = connection.execute(select(p.period_start).where(p.id == cursor)).scalar()
                if start is None:
                    return []
                query = query.where(p.period_start > start if newer else p.period_start < start)
        order = p.period_start.asc() if ending_before else p.period_start.desc()
        rows = [
            PeriodRecord(**dict(row)) for row in connection.execute(query.order_by(order).limit(limit + 1)).mappings()
        ]
    return rows


def stripe_settings(
    engine: Engine, account_id: str | None = None, livemode: bool | None = None
) -> list[StripeSettings]:
    s = STRIPE_SETTINGS.c
    query = select(STRIPE_SETTINGS)
    if account_id is not None:
        query = query.where(s.account_id == account_id, s.livemode == livemode)
    with engine.connect() as connection:
        return [StripeSettings(**dict(row)) for row in connection.execute(query).mappings()]


def synced_page(after: str, size: int) -> Select[Any]:
    """The next `size` live customers with a Stripe id after `after`, by id, from their index."""
    c = CUSTOMERS.c
    query = select(c.id, c.account_id, c.livemode, c.stripe_customer_id).where(STRIPE_SYNCED, c.id > after)
    return query.order_by(c.id).limit(size)


def synced_customers(
    connection: Connection, after: str, limit: int, wanted: Callable[[SyncedCustomer], bool]
) -> tuple[list[SyncedCustomer], bool]:
    """The first `limit` live customers with a Stripe id after `after` (by id) that `wanted` keeps
    → (them, whether more follow). Walks the partial index `ix_customers_stripe_synced` in pages:
    O(limit + log n) reads when `wanted` keeps most of them (it drops the tenants without settings
    and, with several active cores, the other cores' accounts: a page per share of them)."""
    kept: list[SyncedCustomer] = []
    while len(kept) <= limit:
        rows = [SyncedCustomer(*row) for row in connection.execute(synced_page(after, limit + 1))]
        kept += filter(wanted, rows)
        if len(rows) <= limit:
            break
        after = rows[-1].id
    return kept[:limit], len(kept) > limit


def cursors(connection: Connection, customer_ids: list[str]) -> dict[tuple[str, str], SyncCursor]:
    c = STRIPE_CURSORS.c
    query = select(STRIPE_CURSORS).where(c.customer_id.in_(customer_ids))
    return {
        (row["customer_id"], row["value_kind"]): SyncCursor(**dict(row)) for row in connection.execute(query).mappings()
    }


def failing_customers(engine: Engine, account_id: str, livemode: bool) -> int:
    c = STRIPE_CURSORS.c
    query = select(func.count()).where(c.account_id == account_id, c.livemode == livemode, c.last_error != "")
    with engine.connect() as connection:
        return int(connection.execute(query).scalar() or 0)


def _run(row: Any) -> SyncRun:
    return SyncRun(**dict(row))


def sync_runs(engine: Engine, account_id: str, livemode: bool, limit: int) -> list[SyncRun]:
    """A tenant's newest runs (at most `limit`)."""
    r = STRIPE_SYNC_RUNS.c
    query = (
        select(STRIPE_SYNC_RUNS)
        .where(r.account_id == account_id, r.livemode == livemode)
        .order_by(r.id.desc())
        .limit(limit)
    )
    with engine.connect() as connection:
        return [_run(row) for row in connection.execute(query).mappings()]


def runs_of(engine: Engine, run_id: str) -> list[SyncRun]:
    r = STRIPE_SYNC_RUNS.c
    with engine.connect() as connection:
        return [_run(row) for row in connection.execute(select(STRIPE_SYNC_RUNS).where(r.run_id == run_id)).mappings()]
