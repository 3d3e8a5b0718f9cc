"""Running ledger totals: per (ledger account, period, kind), what every transfer debited and credited.

The group commit adds each batch's transfers to these rows in the same transaction that inserts
them (`add`), so the totals are exactly the ledger summed, at every commit. The core's start reads
balances and period spend from them (`spend_by_payer_period`, `balances_like`), which costs the number
of (account, period, kind) rows — customers × months — instead of every transfer ever made. The
ledger audit recomputes them from the transfers (`mismatches`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, func, literal, or_, select, text, union_all

from core.domain import ledger
from core.domain.entities import Transfer
from core.store.among import Among, among
from core.store.driver_sql import execute_columns
from core.store.tables import LEDGER_TOTALS, TRANSFERS

_Key = tuple[str, int, str]

# One statement for SQLite (≥ 3.24) and PostgreSQL alike. Rows are added in key order: two cores
# adding to the same rows (scale-out) then lock them in the same order and cannot deadlock.
_ON_CONFLICT = (
    "ON CONFLICT (ledger_account, period_start, kind) DO UPDATE SET "
    "debit_nano = ledger_totals.debit_nano + excluded.debit_nano, "
    "credit_nano = ledger_totals.credit_nano + excluded.credit_nano"
)
_ADD = text(
    "INSERT INTO ledger_totals (ledger_account, period_start, kind, debit_nano, credit_nano) "
    "VALUES (:ledger_account, :period_start, :kind, :debit_nano, :credit_nano) " + _ON_CONFLICT
)
# PostgreSQL: every row of the commit in one statement, each column one array (the keys are unique:
# no row meets ON CONFLICT twice), unnest keeping their order.
_ADD_PG = (
    "INSERT INTO ledger_totals (ledger_account, period_start, kind, debit_nano, credit_nano) "
    "SELECT * FROM unnest(%s::text[], %s::bigint[], %s::text[], %s::bigint[], %s::bigint[]) " + _ON_CONFLICT
)


def deltas(transfers: Iterable[Transfer]) -> dict[_Key, list[int]]:
    """(account, period, kind) → [debited, credited] by these transfers."""
    moved: dict[_Key, list[int]] = defaultdict(lambda: [0, 0])
    for t in transfers:
        moved[(t.debit, t.period_start, t.kind)][0] += t.amount_nano
        moved[(t.credit, t.period_start, t.kind)][1] += t.amount_nano
    return moved


def add(connection: Connection, transfers: Iterable[Transfer]) -> None:
    """Add `transfers` to the totals, in the caller's transaction (the one inserting them)."""
    moved = deltas(transfers)
    if not moved:
        return
    if connection.dialect.name == "postgresql":
        execute_columns(connection, _ADD_PG, [(*key, *sums) for key, sums in sorted(moved.items())])
        return
    rows = [
        {"ledger_account": key[0], "period_start": key[1], "kind": key[2], "debit_nano": d, "credit_nano": c}
        for key, (d, c) in sorted(moved.items())
    ]
    connection.execute(_ADD, rows)


def spend_by_payer_period(
    connection: Connection, since: int, among_accounts: Among | None = None
) -> dict[tuple[str, int], int]:
    """Posted usage per (payer ledger account, period ≥ since): posts and expiries minus corrections
    (the same figure as core.store.loader.spend_by_payer_period, from the totals); with
    `among_accounts`, of those ledger accounts only."""
    lt = LEDGER_TOTALS.c
    spent: dict[tuple[str, int], int] = defaultdict(int)
    query = select(lt.ledger_account, lt.period_start, lt.kind, lt.debit_nano, lt.credit_nano).where(
        lt.period_start >= since, lt.kind.in_((*ledger.SPEND_KINDS, "correction"))
    )
    if among_accounts is not None:
        query = query.where(_among(connection, lt.ledger_account, among_accounts))
    for account, period, kind, debited, credited in connection.execute(query):
        spent[(account, period)] += -int(credited) if kind == "correction" else int(debited)
    return spent


def balances_like(
    connection: Connection, pattern: str, exclude_kind: str | None = None, among_accounts: list[str] | None = None
) -> dict[str, int]:
    """Credited minus debited, ever, for each ledger account matching the LIKE `pattern` (and with
    `among_accounts`, one of them)."""
    lt = LEDGER_TOTALS.c
    conditions: list[ColumnElement[bool]] = [lt.ledger_account.like(pattern)]
    if among_accounts is not None:
        conditions.append(_among(connection, lt.ledger_account, among_accounts))
    if exclude_kind is not None:
        conditions.append(lt.kind != exclude_kind)
    query = (
        select(lt.ledger_account, func.sum(lt.credit_nano - lt.debit_nano))
        .where(*conditions)
        .group_by(lt.ledger_account)
    )
    return {account: int(amount) for account, amount in connection.execute(query)}


def balances_of(connection: Connection, names: Select[Any], exclude_kind: str | None = None) -> dict[str, int]:
    """Credited minus debited, ever, for each ledger account the query `names` selects (one column),
    but those with no totals: one index lookup per name (a correlated subquery), whatever the
    planner expects — as a join beside `names`, PostgreSQL expects a few rows and scans the whole
    table (0.19 s for a chunk of 2,000 customers' wallets at 100,000 customers)."""
    named = names.subquery()
    name = named.c[0]
    lt = LEDGER_TOTALS.c
    conditions: list[ColumnElement[bool]] = [lt.ledger_account == name]
    if exclude_kind is not None:
        conditions.append(lt.kind != exclude_kind)
    balance = select(func.sum(lt.credit_nano - lt.debit_nano)).where(*conditions).scalar_subquery()
    rows = connection.execute(select(name, balance).select_from(named))
    return {str(account): int(amount) for account, amount in rows if amount is not None}


def _among(connection: Connection, column: ColumnElement[str], values: Among) -> ColumnElement[bool]:
    """`column` is one of `values` (one array parameter on PostgreSQL)."""
    return among(column, values, connection.dialect.name == "postgresql")


def mismatches(connection: Connection) -> list[tuple[str, int, str, int, int, int, int]]:
    """Rows where the totals differ from the transfers summed again: (account, period, kind, debited
    by the totals, by the transfers, credited by the totals, by the transfers). Empty when exact.

    One statement, so one snapshot: read as two, a batch committed between them (a live call) would
    show as a false mismatch when the ledger audit runs under traffic."""
    t, lt = TRANSFERS.c, LEDGER_TOTALS.c
    zero = literal(0)
    sides = union_all(
        select(
            t.debit.label("account"),
            t.period_start.label("period"),
            t.kind.label("kind"),
            t.amount_nano.label("d"),
            zero.label("c"),
            zero.label("kd"),
            zero.label("kc"),
        ),
        select(t.credit, t.period_start, t.kind, zero, t.amount_nano, zero, zero),
        select(lt.ledger_account, lt.period_start, lt.kind, zero, zero, lt.debit_nano, lt.credit_nano),
    ).subquery()
    s = sides.c
    account, period, kind = s.account, s.period, s.kind
    debited, credited, kept_debited, kept_credited = func.sum(s.d), func.sum(s.c), func.sum(s.kd), func.sum(s.kc)
    query = (
        select(account, period, kind, kept_debited, debited, kept_credited, credited)
        .group_by(account, period, kind)
        .having(or_(kept_debited != debited, kept_credited != credited))
        .order_by(account, period, kind)
    )
    return [
        (str(a), int(p), str(k), int(kd), int(d), int(kc), int(cr))
        for a, p, k, kd, d, kc, cr in connection.execute(query)
    ]
