"""The retention purges' statements (core/domain/retention.py says what is kept how long)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Connection, bindparam, delete, select
from sqlalchemy.sql import Executable

from core.domain.retention import (
    EventPurge,
    IdempotencyPurge,
    RequestLogPurge,
    StoreQueryPurge,
    UnattributedUsagePurge,
    UsagePurge,
)
from core.store.tables import ACCOUNTS, EVENTS, IDEMPOTENCY, REQUEST_LOG, USAGE, USAGE_DAILY, VECTOR_STORE_QUERIES

_U, _L = USAGE.c, REQUEST_LOG.c

STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    EventPurge: (
        delete(EVENTS).where(EVENTS.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
    IdempotencyPurge: (
        delete(IDEMPOTENCY).where(IDEMPOTENCY.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
    StoreQueryPurge: (
        delete(VECTOR_STORE_QUERIES).where(VECTOR_STORE_QUERIES.c.created < bindparam("b_before")),
        lambda r: {"b_before": r.created_before},
    ),
    # Per customer, so the (account, mode, customer, period) index finds the rows: a record's period
    # starts no later than the record, so period_start < before only narrows the search.
    UsagePurge: (
        delete(USAGE).where(
            _U.account_id == bindparam("b_account"),
            _U.livemode == bindparam("b_livemode"),
            _U.customer_id == bindparam("b_customer"),
            _U.period_start < bindparam("b_before"),
            _U.created < bindparam("b_before"),
        ),
        lambda r: _usage_purge_row(r),
    ),
    UnattributedUsagePurge: (  # `= NULL` matches nothing: the unattributed calls' own statement
        delete(USAGE).where(
            _U.account_id == bindparam("b_account"),
            _U.livemode == bindparam("b_livemode"),
            _U.customer_id.is_(None),
            _U.period_start < bindparam("b_before"),
            _U.created < bindparam("b_before"),
        ),
        lambda r: {"b_account": r.account_id, "b_livemode": r.livemode, "b_before": r.created_before},
    ),
    RequestLogPurge: (
        delete(REQUEST_LOG).where(
            _L.account_id == bindparam("b_account"),
            _L.livemode == bindparam("b_livemode"),
            _L.created < bindparam("b_before"),
        ),
        lambda r: {"b_account": r.account_id, "b_livemode": r.livemode, "b_before": r.created_before},
    ),
}


def _usage_purge_row(r: UsagePurge) -> dict[str, Any]:
    return {
        "b_account": r.account_id,
        "b_livemode": r.livemode,
        "b_customer": r.customer_id,
        "b_before": r.created_before,
    }


def usage_to_purge(connection: Connection, since_day: int, before_day: int) -> list[tuple[str, bool, str]]:
    """(account, mode, customer — "" for unattributed calls) with usage on days in [since_day,
    before_day), from the daily aggregates (customers × models × days, never one row a call)."""
    d = USAGE_DAILY.c
    query = select(d.account_id, d.livemode, d.customer_id).where(d.day >= since_day, d.day < before_day).distinct()
    return [(account, bool(livemode), customer) for account, livemode, customer in connection.execute(query)]


def accounts(connection: Connection) -> list[str]:
    return [account for (account,) in connection.execute(select(ACCOUNTS.c.id))]
