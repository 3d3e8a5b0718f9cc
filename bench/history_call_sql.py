"""The calls' rows of `bench.history_data`'s history as SQL the database runs: `INSERT … SELECT` over
a generated series of call numbers (bench.history_load runs it, a chunk of calls at a time).

The ids are spelled in SQL as `CallIds` spells them; the columns are checked against the schema, so
a column added there must be written here too.
"""

from __future__ import annotations

from typing import Any

import orjson

from bench.history_data import (
    COST_NANO,
    HOLD_NANO,
    MODEL_REF,
    PERIODS,
    PRICE,
    PROVIDER,
    UPSTREAM_MODEL,
    WALLETS,
    Plan,
    periods,
)
from bench.history_data import USAGE as CALL_USAGE
from core.domain import ledger
from core.store.tables import HOLDS, LEDGER_TOTALS, TRANSFERS, USAGE, USAGE_DAILY
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


_DIGITS = 6  # the counter's base-62 characters (`CallIds.counter`: two triples)


def _counter_sql(number: str, stamp: str, salt: str, alphabet: str) -> str:
    """SQL of `CallIds.counter(number)`: the stamp, `number` in 6 base-62 digits (most significant
    first, as the two triples spell it), the salt; `stamp`, `salt`, `alphabet` are placeholders."""
    digits = " || ".join(
        f"substr({alphabet}, CAST(({number} / {len(_ALPHABET) ** power}) % {len(_ALPHABET)} AS INTEGER) + 1, 1)"
        for power in reversed(range(_DIGITS))
    )
    return f"{stamp} || {digits} || {salt}"


def call_statements(dialect: str) -> list[str]:
    """INSERT … SELECT of every call in [begin, end): the database makes the rows (a generated
    series of call numbers joined to the customers' table by index), not Python. Placeholders are
    named as each driver spells them; the parameters are `call_parameters`'."""
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


def call_parameters(plan: Plan) -> dict[str, Any]:
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
