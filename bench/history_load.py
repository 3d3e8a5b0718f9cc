"""The fast writer of `bench.history_data`'s history: millions of calls in minutes, not days.

The same rows as `history_data.reference` (tests/bench/test_history_data.py compares them row for
row). The calls' rows (a hold, three transfers, a usage record each) are made by the database
itself: `INSERT … SELECT` over a generated series of call numbers joined to a temporary table of the
customers, the ids spelled in SQL as `CallIds` spells them — no Python object, tuple or bound
parameter per row (the tuple writer before it spent ~11 µs of CPU per row on SQLite, mostly binding
parameters; 10M calls are 69M rows). The customers, the top-ups and the aggregates are tuples:

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

import orjson
import psycopg

from bench.history_data import (
    CHUNK,
    COST_NANO,
    HOLD_NANO,
    MODEL_REF,
    PERIODS,
    PRICE,
    PROVIDER,
    UPSTREAM_MODEL,
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
from core.store.tables import HOLDS, LEDGER_TOTALS, TRANSFERS, USAGE, USAGE_DAILY
from core.store.usage_daily import DAY_S
from ringside_server.ids import _ALPHABET

HOLD_COLUMNS = [
    "id",
    "account_id",
    "livemode",
    "customer_id",
    "payer",
    "revenue",
    "amount_nano",
    "period_start",
    "created",
    "expires_at",
    "provider",
    "model_ref",
    "price_json",
    "markup_bp",
    "kind",
    "prepaid_nano",
    "state",
    "resolved_at",
    "lease_calls",
    "slots_released_unreported",
    "output_tokens",
    "lease_tokens",
]
TRANSFER_COLUMNS = [
    "id",
    "account_id",
    "livemode",
    "debit",
    "credit",
    "amount_nano",
    "kind",
    "request_id",
    "pending_id",
    "hold_id",
    "memo",
    "period_start",
    "created",
]
USAGE_COLUMNS = [
    "request_id",
    "account_id",
    "livemode",
    "customer_id",
    "provider",
    "model_ref",
    "upstream_model",
    "input_tokens",
    "cached_input_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "audio_input_tokens",
    "audio_output_tokens",
    "image_input_tokens",
    "cost_nano",
    "billable_nano",
    "posted_nano",
    "unbilled_nano",
    "status",
    "usage_estimated",
    "period_start",
    "created",
    "hold_id",
]
TOTAL_COLUMNS = ["ledger_account", "period_start", "kind", "debit_nano", "credit_nano"]
DAILY_COLUMNS = [
    "account_id",
    "livemode",
    "day",
    "customer_id",
    "model_ref",
    "period_start",
    "cost_nano",
    "posted_nano",
    "request_count",
    "input_tokens",
    "output_tokens",
]
for _table, _columns in (
    (HOLDS, HOLD_COLUMNS),
    (TRANSFERS, TRANSFER_COLUMNS),
    (USAGE, USAGE_COLUMNS),
    (LEDGER_TOTALS, TOTAL_COLUMNS),
    (USAGE_DAILY, DAILY_COLUMNS),
):  # a column added to the schema must be written here too
    if sorted(_columns) != sorted(column.name for column in _table.columns):
        raise RuntimeError(f"bench.history_load writes {_table.name} without {_table.columns.keys()}")
BULK_TABLES = ("holds", "transfers", "usage_records", "ledger_totals", "usage_daily")
LOAD_CHUNK = 5 * CHUNK  # calls per transaction


_DIGITS = 6  # the counter's base-62 characters (`CallIds.counter`: two triples)


def _counter_sql(number: str, stamp: str, salt: str, alphabet: str) -> str:
    """SQL of `CallIds.counter(number)`: the stamp, `number` in 6 base-62 digits (most significant
    first, as the two triples spell it), the salt; `stamp`, `salt`, `alphabet` are placeholders."""
    digits = " || ".join(
        f"substr({alphabet}, CAST(({number} / {len(_ALPHABET) ** power}) % {len(_ALPHABET)} AS INTEGER) + 1, 1)"
        for power in reversed(range(_DIGITS))
    )
    return f"{stamp} || {digits} || {salt}"


def _call_statements(dialect: str) -> list[str]:
    """INSERT … SELECT of every call in [begin, end): the database makes the rows (a generated
    series of call numbers joined to the customers' table by index), not Python. Placeholders are
    named as each driver spells them; the parameters are `_call_parameters`'."""
    mark = (lambda name: f"%({name})s") if dialect == "postgresql" else (lambda name: f":{name}")
    stamp, salt = mark("stamp"), mark("salt")
    alphabet = mark("alphabet")
    if dialect == "postgresql":
        series = f"SELECT n FROM generate_series(CAST({mark('begin')} AS BIGINT), {mark('end')} - 1) AS n"
    else:  # a recursive CTE: SQLite's generate_series is an extension the stdlib's build may lack
        series = (
            f"WITH RECURSIVE series(n) AS (SELECT {mark('begin')} UNION ALL "
            f"SELECT n + 1 FROM series WHERE n + 1 < {mark('end')}) SELECT n FROM series"
        )
    period = " ".join(f"WHEN {p} THEN {mark(f'period{p}')}" for p in range(PERIODS))
    calls = (
        f"SELECT s.n, c.id AS customer_id, c.payer, CASE (s.n / {mark('customers')}) % {PERIODS} {period} END AS period"
        f" FROM ({series}) AS s JOIN bench_customers AS c ON c.idx = s.n % {mark('customers')}"
    )
    hold = _counter_sql("n", stamp, salt, alphabet)
    hold_id = f"'req_' || {hold}"
    created = "period + 3600 + n % 86400"
    post = _counter_sql(f"({mark('first')} + 2 * n)", stamp, salt, alphabet)
    cost = _counter_sql(f"({mark('first')} + 2 * n + 1)", stamp, salt, alphabet)
    t, f, account = mark("true"), mark("false"), mark("account")
    holds = (
        f"INSERT INTO holds ({', '.join(HOLD_COLUMNS)}) SELECT {hold_id}, {account}, {t}, customer_id, payer,"
        f" {mark('revenue')}, {mark('hold_nano')}, period, {created}, {created} + 600, {mark('provider')},"
        f" {mark('model_ref')}, {mark('price_json')}, 0, 'call', 0, 'settled', {created}, 0, NULL, 0, 0"
        f" FROM ({calls}) AS calls"
    )
    transfers = f"INSERT INTO transfers ({', '.join(TRANSFER_COLUMNS)}) SELECT "
    pending = (
        f"{transfers}'tr_' || {hold_id}, {account}, {t}, payer, {mark('revenue')}, {mark('hold_nano')}, 'pending',"
        f" {hold_id}, NULL, NULL, '', period, {created} FROM ({calls}) AS calls"
    )
    posts = (
        f"{transfers}'tr_' || {post}, {account}, {t}, payer, {mark('revenue')}, {mark('cost_nano')}, 'post',"
        f" {hold_id}, 'tr_' || {hold_id}, NULL, '', period, {created} FROM ({calls}) AS calls"
    )
    costs = (
        f"{transfers}'tr_' || {cost}, {account}, {t}, {mark('cost_debit')}, {mark('cost_credit')},"
        f" {mark('cost_nano')}, 'cost', {hold_id}, NULL, NULL, '', period, {created} FROM ({calls}) AS calls"
    )
    usage = (
        f"INSERT INTO usage_records ({', '.join(USAGE_COLUMNS)}) SELECT {hold_id}, {account}, {t}, customer_id,"
        f" {mark('provider')}, {mark('model_ref')}, {mark('upstream_model')}, {mark('tokens_in')}, 0, 0,"
        f" {mark('tokens_out')}, 0, 0, 0, 0, {mark('cost_nano')}, {mark('cost_nano')}, {mark('cost_nano')}, 0,"
        f" 'completed', {f}, period, {created}, NULL FROM ({calls}) AS calls"
    )
    statements = [holds, pending, posts, costs, usage]
    # psycopg reads a lone % as a placeholder's start: the modulo operator is spelled %% there
    return [statement.replace(" % ", " %% ") for statement in statements] if dialect == "postgresql" else statements


def _call_parameters(plan: Plan) -> dict[str, Any]:
    account = plan.account_id
    return {
        "stamp": plan.ids.stamp,
        "salt": plan.ids.salt,
        "alphabet": _ALPHABET,
        "customers": len(plan.customer_ids),
        "first": min(WALLETS, len(plan.customer_ids)),  # the top-ups' transfer ids come first
        **{f"period{p}": start for p, start in enumerate(periods(plan.now))},
        "true": True,
        "false": False,
        "account": account,
        "revenue": ledger.revenue(account, True),
        "cost_debit": ledger.provider_cost(account, True),
        "cost_credit": ledger.provider_payable(account, True, PROVIDER),
        "hold_nano": HOLD_NANO,
        "cost_nano": COST_NANO,
        "provider": PROVIDER,
        "model_ref": MODEL_REF,
        "upstream_model": UPSTREAM_MODEL,
        "price_json": orjson.dumps(PRICE).decode(),
        "tokens_in": CALL_USAGE.input_tokens,
        "tokens_out": CALL_USAGE.output_tokens,
    }


class Rows:
    """The plan's customers, top-ups and aggregates as tuples; the calls' rows are made by the
    database (`_call_statements`), their aggregates counted here."""

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
        statements, parameters = _call_statements("sqlite"), _call_parameters(plan)
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
        statements, parameters = _call_statements("postgresql"), _call_parameters(plan)
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
