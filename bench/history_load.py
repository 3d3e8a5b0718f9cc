"""The fast writer of `bench.history_data`'s history: millions of calls in minutes, not days.

The same rows as `history_data.reference` (tests/bench/test_history_data.py compares them row for
row). The calls' rows (a hold, three transfers, a usage record each) are made by the database
itself (bench/history_call_sql.py): `INSERT … SELECT` over a generated series of call numbers joined
to a temporary table of the customers, the ids spelled in SQL as `CallIds` spells them — no Python
object, tuple or bound parameter per row (the tuple writer before it spent ~11 µs of CPU per row on
SQLite, mostly binding parameters; 10M calls are 69M rows). The customers, the top-ups and the aggregates are tuples:

- PostgreSQL: `COPY … FROM STDIN` for the tuples, one transaction per LOAD_CHUNK calls;
- SQLite: transactions of LOAD_CHUNK calls with `journal_mode=OFF` and `synchronous=OFF` for the
  load only, then back to WAL (what the core sets);
- both: the secondary indexes of holds, transfers and usage records are dropped before the load and
  created again after it, as a restore does (an index built by sorting, not row by row); the
  primary keys and unique constraints stay. PostgreSQL is vacuumed and analyzed after (what its
  autovacuum does after a bulk insert), so the reads are planned on statistics of the loaded data.

The aggregates the group commit would keep (ledger totals, daily usage) are counted while the rows
are made — calls per (customer, period, day) — and written once at the end.
"""

from __future__ import annotations

import sqlite3
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from bench.history_call_sql import DAILY_COLUMNS, TOTAL_COLUMNS, TRANSFER_COLUMNS, call_parameters, call_statements
from bench.history_data import (
    CHUNK,
    COST_NANO,
    HOLD_NANO,
    MODEL_REF,
    PERIODS,
    PROVIDER,
    WALLETS,
    Plan,
    customer,
    periods,
    prepare,
    top_ups,
)
from bench.history_data import USAGE as CALL_USAGE
from core.domain import ledger
from core.services.core import Core
from core.store.record_rows import customer_row, transfer_row
from core.store.usage_daily import DAY_S

BULK_TABLES = ("holds", "transfers", "usage_records", "ledger_totals", "usage_daily")
LOAD_CHUNK = 5 * CHUNK  # calls per transaction


class Rows:
    """The plan's customers, top-ups and aggregates as tuples; the calls' rows are made by the
    database (`history_call_sql`), their aggregates counted here."""

    def __init__(self, plan: Plan) -> None:
        self.plan = plan
        # calls per (customer index, period, day): every call moves the same amounts
        self.calls: Counter[tuple[int, int, int]] = Counter()
        customers_n, starts = len(plan.customer_ids), periods(plan.now)
        counted = self.calls
        for n in range(plan.calls):
            period = starts[(n // customers_n) % PERIODS]
            counted[(n % customers_n, period, (period + 3600 + n % 86_400) // DAY_S)] += 1

    def customers(self) -> tuple[list[str], list[tuple[Any, ...]]]:
        rows = [customer_row(customer(self.plan, n)) for n in range(len(self.plan.customer_ids))]
        return list(rows[0]), [tuple(row.values()) for row in rows]

    def payers(self) -> list[tuple[int, str, str]]:
        """(index, customer id, payer ledger account) of every customer: what the calls join to."""
        return [
            (n, c, ledger.customer_wallet(c) if n < WALLETS else ledger.customer_spend(c))
            for n, c in enumerate(self.plan.customer_ids)
        ]

    def top_ups(self) -> list[tuple[Any, ...]]:
        return [tuple(transfer_row(t)[name] for name in TRANSFER_COLUMNS) for t in top_ups(self.plan)]

    def ranges(self) -> Iterator[tuple[int, int]]:
        """[begin, end) of the calls of each transaction."""
        for begin in range(0, self.plan.calls, LOAD_CHUNK):
            yield begin, min(begin + LOAD_CHUNK, self.plan.calls)

    def ledger_totals(self) -> list[tuple[Any, ...]]:
        """(account, period, kind) → debited, credited: the top-ups' and the counted calls'."""
        plan = self.plan
        account = plan.account_id
        moved: dict[tuple[str, int, str], list[int]] = {}

        def add(key: tuple[str, int, str], debit: int, credit: int) -> None:
            sums = moved.setdefault(key, [0, 0])
            sums[0] += debit
            sums[1] += credit

        for t in top_ups(plan):
            add((t.debit, t.period_start, t.kind), t.amount_nano, 0)
            add((t.credit, t.period_start, t.kind), 0, t.amount_nano)
        revenue = ledger.revenue(account, True)
        cost_debit, cost_credit = ledger.provider_cost(account, True), ledger.provider_payable(account, True, PROVIDER)
        for (index, period, _day), calls in self.calls.items():
            customer_id = plan.customer_ids[index]
            payer = ledger.customer_wallet(customer_id) if index < WALLETS else ledger.customer_spend(customer_id)
            add((payer, period, "pending"), calls * HOLD_NANO, 0)
            add((revenue, period, "pending"), 0, calls * HOLD_NANO)
            add((payer, period, "post"), calls * COST_NANO, 0)
            add((revenue, period, "post"), 0, calls * COST_NANO)
            add((cost_debit, period, "cost"), calls * COST_NANO, 0)
            add((cost_credit, period, "cost"), 0, calls * COST_NANO)
        return [(*key, debit, credit) for key, (debit, credit) in sorted(moved.items())]

    def usage_daily(self) -> list[tuple[Any, ...]]:
        plan, tokens_in, tokens_out = self.plan, CALL_USAGE.input_tokens, CALL_USAGE.output_tokens
        rows = [
            (
                plan.account_id, True, day, plan.customer_ids[index], MODEL_REF, period,
                calls * COST_NANO, calls * COST_NANO, calls, calls * tokens_in, calls * tokens_out,
            )
            for (index, period, day), calls in self.calls.items()
        ]  # fmt: skip
        # in primary key order (account and model are the same for all): appended, not inserted at
        # random places of a million-row index
        return sorted(rows, key=lambda row: (row[2], row[3], row[5]))


@dataclass(frozen=True)
class Loaded:
    rows: int  # rows written, every table
    seconds: float  # wall, indexes and (PostgreSQL) vacuum included
    cpu_s: float  # this process's CPU (building the rows, the driver; not the database server's)


def _insert(table: str, columns: Sequence[str], placeholder: str = "?") -> str:
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(placeholder for _ in columns)})"


def load_sqlite(path: str, plan: Plan) -> Loaded:
    """Write the plan into the SQLite file at `path` (migrated, bootstrapped, no core open on it)."""
    started, cpu_started, written = time.perf_counter(), time.process_time(), 0
    rows = Rows(plan)
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode=OFF")
        connection.execute("PRAGMA synchronous=OFF")
        connection.execute("PRAGMA cache_size=-262144")  # 256 MB: the index builds sort in memory
        marks = ",".join("?" for _ in BULK_TABLES)
        indexes = connection.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN ({marks})",
            BULK_TABLES,
        ).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        customer_columns, customer_values = rows.customers()
        connection.execute("BEGIN")
        connection.executemany(_insert("customers", customer_columns), customer_values)
        connection.executemany(_insert("transfers", TRANSFER_COLUMNS), rows.top_ups())
        connection.execute("COMMIT")
        written += len(customer_values) + len(rows.top_ups())
        connection.execute("CREATE TEMP TABLE bench_customers (idx INTEGER PRIMARY KEY, id TEXT, payer TEXT)")
        connection.executemany("INSERT INTO bench_customers VALUES (?, ?, ?)", rows.payers())
        statements, parameters = call_statements("sqlite"), call_parameters(plan)
        for begin, end in rows.ranges():
            connection.execute("BEGIN")
            for statement in statements:
                connection.execute(statement, {**parameters, "begin": begin, "end": end})
            connection.execute("COMMIT")
            written += 5 * (end - begin)  # a hold, three transfers, a usage record
        connection.execute("DROP TABLE bench_customers")
        totals, daily = rows.ledger_totals(), rows.usage_daily()
        connection.execute("BEGIN")
        connection.executemany(_insert("ledger_totals", TOTAL_COLUMNS), totals)
        connection.executemany(_insert("usage_daily", DAILY_COLUMNS), daily)
        connection.execute("COMMIT")
        written += len(totals) + len(daily)
        for _, sql in indexes:
            connection.execute(sql)
        connection.execute("PRAGMA journal_mode=WAL")
    finally:
        connection.close()
    return Loaded(written, time.perf_counter() - started, time.process_time() - cpu_started)


def _copy(cursor: psycopg.Cursor[Any], table: str, columns: Sequence[str], values: Sequence[tuple[Any, ...]]) -> None:
    with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
        write = copy.write_row
        for row in values:
            write(row)


_SECONDARY = """
SELECT c.relname, pg_get_indexdef(i.indexrelid)
FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_class t ON t.oid = i.indrelid
WHERE t.relname = ANY(%s) AND NOT EXISTS (SELECT 1 FROM pg_constraint k WHERE k.conindid = i.indexrelid)
"""


def load_postgres(url: str, plan: Plan) -> Loaded:
    """Write the plan into the PostgreSQL database at `url` (migrated, bootstrapped, no core on it)."""
    started, cpu_started, written = time.perf_counter(), time.process_time(), 0
    rows = Rows(plan)
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SET maintenance_work_mem = '256MB'")
        connection.execute("SET synchronous_commit = off")
        indexes = connection.execute(_SECONDARY, (list(BULK_TABLES),)).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        customer_columns, customer_values = rows.customers()
        with connection.transaction(), connection.cursor() as cursor:
            _copy(cursor, "customers", customer_columns, customer_values)
            _copy(cursor, "transfers", TRANSFER_COLUMNS, rows.top_ups())
        written += len(customer_values) + len(rows.top_ups())
        connection.execute("CREATE TEMP TABLE bench_customers (idx BIGINT PRIMARY KEY, id TEXT, payer TEXT)")
        with connection.cursor() as cursor:
            _copy(cursor, "bench_customers", ("idx", "id", "payer"), rows.payers())
        connection.execute("ANALYZE bench_customers")
        statements, parameters = call_statements("postgresql"), call_parameters(plan)
        for begin, end in rows.ranges():
            with connection.transaction():
                for statement in statements:
                    connection.execute(statement, {**parameters, "begin": begin, "end": end})
            written += 5 * (end - begin)
        connection.execute("DROP TABLE bench_customers")
        totals, daily = rows.ledger_totals(), rows.usage_daily()
        with connection.transaction(), connection.cursor() as cursor:
            _copy(cursor, "ledger_totals", TOTAL_COLUMNS, totals)
            _copy(cursor, "usage_daily", DAILY_COLUMNS, daily)
        written += len(totals) + len(daily)
        for _, sql in indexes:
            connection.execute(sql)
        for table in (*BULK_TABLES, "customers"):
            connection.execute(f"VACUUM ANALYZE {table}")
    return Loaded(written, time.perf_counter() - started, time.process_time() - cpu_started)


def postgres_bytes(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute("SELECT pg_database_size(current_database())").fetchone()
    return int(row[0]) if row else 0


async def generate(core: Core, customers_n: int, calls: int) -> str:
    """Fill the empty database of an open core (bootstrapped through it, the rest loaded beside
    it: the core's pooled connections are closed first, so SQLite's file is the loader's alone);
    → a wallet customer's id (every customer has about calls/customers calls). The core's hot
    state does not see the loaded history: reopen a core to measure it."""
    plan = await prepare(core, customers_n, calls)
    core.engine.dispose()
    url = core.engine.url
    if url.get_backend_name() == "postgresql":
        load_postgres(url.set(drivername="postgresql").render_as_string(hide_password=False), plan)
    else:
        load_sqlite(str(url.database), plan)
    return plan.customer_ids[0]
