"""Daily usage aggregates: the usage records summed per (account, mode, day, customer, model, period).

The group commit adds each batch's usage records (and the difference a late settle's correction
makes) to these rows in the same transaction that writes the records (`add`), so the aggregates
are exactly the records summed, at every commit, whether or not the records are still there:
the retention purge deletes records older than `RINGSIDE_RETENTION_REQUESTS_DAYS` and no total
changes. /v1/usage reads whole days from here (core/services/usage.py), billing periods and the
Stripe sync read a customer's period from here (`customer_sums`), and a starting core reads its
request counts from here: each costs customers × models × days rows, never one row per call.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable
from typing import Any

from sqlalchemy import Connection, case, func, select, text

from core.domain.entities import NOT_REQUESTS, UsageCorrection, UsageRecord
from core.store.among import Among, among
from core.store.driver_sql import execute_columns
from core.store.tables import USAGE, USAGE_DAILY

DAY_S = 86_400
# (account, livemode, day, customer ("" when unattributed), model ref, period start)
_Key = tuple[str, bool, int, str, str, int]
SUMMED = ("cost_nano", "posted_nano", "request_count", "input_tokens", "output_tokens")  # `deltas` adds five

# One statement for SQLite (≥ 3.24) and PostgreSQL; rows added in key order, so two cores adding
# to the same rows lock them in the same order and cannot deadlock (as ledger_totals does).
_COLUMNS = "account_id, livemode, day, customer_id, model_ref, period_start, " + ", ".join(SUMMED)
_ON_CONFLICT = (
    " ON CONFLICT (account_id, livemode, day, customer_id, model_ref, period_start) DO UPDATE SET "
    + ", ".join(f"{name} = usage_daily.{name} + excluded.{name}" for name in SUMMED)
)
_ADD = text(
    f"INSERT INTO usage_daily ({_COLUMNS}) VALUES (:account_id, :livemode, :day, :customer_id, :model_ref, "
    ":period_start, " + ", ".join(f":{name}" for name in SUMMED) + ")" + _ON_CONFLICT
)
# PostgreSQL: the commit's rows in one statement, a column an array (keys unique, order kept).
_ADD_PG = (
    f"INSERT INTO usage_daily ({_COLUMNS}) SELECT * FROM unnest(%s::text[], %s::boolean[], %s::bigint[], "
    "%s::text[], %s::text[], %s::bigint[], " + ", ".join("%s::bigint[]" for _ in SUMMED) + ")" + _ON_CONFLICT
)


def _key(account_id: str, livemode: bool, created: int, customer_id: str | None, model: str, period: int) -> _Key:
    return (account_id, bool(livemode), created // DAY_S, customer_id or "", model, period)


def _of_record(r: UsageRecord) -> tuple[_Key, tuple[int, ...]]:
    counted = 0 if r.status in NOT_REQUESTS else 1
    key = _key(r.account_id, r.livemode, r.created, r.customer_id, r.model_ref, r.period_start)
    return key, (r.cost_nano, r.posted_nano, counted, r.usage.prompt_tokens, r.usage.completion_tokens)


def _of_row(row: Any) -> tuple[_Key, tuple[int, ...]]:
    key = _key(row.account_id, row.livemode, row.created, row.customer_id, row.model_ref, row.period_start)
    counted = 0 if row.status in NOT_REQUESTS else 1
    prompt = (
        row.input_tokens
        + row.cached_input_tokens
        + row.cache_write_tokens
        + row.audio_input_tokens
        + row.image_input_tokens
    )
    completion = row.output_tokens + row.reasoning_tokens + row.audio_output_tokens
    return key, (row.cost_nano, row.posted_nano, counted, prompt, completion)


def deltas(connection: Connection, records: Iterable[object]) -> dict[_Key, list[int]]:
    """What these records change in the aggregates. A correction replaces its call's record: the
    record it replaces (written earlier in this batch, or read from the database — so call this
    before the batch's statements run) is taken away. A correction whose record is gone (purged)
    changes nothing, as its update changes no row."""
    usage = [r for r in records if type(r) is UsageRecord or type(r) is UsageCorrection]
    moved: dict[_Key, list[int]] = defaultdict(lambda: [0] * len(SUMMED))
    if not usage:
        return moved
    corrected = [r.record.request_id for r in usage if type(r) is UsageCorrection]
    current: dict[str, tuple[_Key, tuple[int, ...]]] = {}
    if corrected:
        for row in connection.execute(select(USAGE).where(USAGE.c.request_id.in_(corrected))):
            current[row.request_id] = _of_row(row)
    for r in usage:
        record = r if type(r) is UsageRecord else r.record  # type: ignore[union-attr]
        assert isinstance(record, UsageRecord)
        if type(r) is UsageCorrection:
            replaced = current.get(record.request_id)
            if replaced is None:
                continue
            old_key, old_values = replaced
            for index, value in enumerate(old_values):
                moved[old_key][index] -= value
        key, values = _of_record(record)
        if corrected:  # only a later correction of the same call in this batch reads it back
            current[record.request_id] = (key, values)
        sums = moved[key]
        sums[0] += values[0]
        sums[1] += values[1]
        sums[2] += values[2]
        sums[3] += values[3]
        sums[4] += values[4]
    return moved


def add(connection: Connection, moved: dict[_Key, list[int]]) -> None:
    """Add `deltas(...)` to the aggregates, in the caller's transaction (the one writing the records)."""
    if moved and connection.dialect.name == "postgresql":
        execute_columns(connection, _ADD_PG, [(*key, *sums) for key, sums in sorted(moved.items())])
        return
    rows = [
        {
            "account_id": key[0],
            "livemode": key[1],
            "day": key[2],
            "customer_id": key[3],
            "model_ref": key[4],
            "period_start": key[5],
            **dict(zip(SUMMED, values, strict=True)),
        }
        for key, values in sorted(moved.items())
    ]
    if rows:
        connection.execute(_ADD, rows)


def customer_sums(
    connection: Connection, customer_ids: list[str], period_start: int | None, accounts: Collection[str]
) -> dict[str, tuple[int, int, int, int]]:
    """customer → (cost, requests, input tokens, output tokens) in one billing period (every period
    when None), from the aggregates: a per-customer-month read that scans no usage record."""
    if not customer_ids:
        return {}
    d = USAGE_DAILY.c
    query = (
        select(
            d.customer_id,
            func.sum(d.cost_nano),
            func.sum(d.request_count),
            func.sum(d.input_tokens),
            func.sum(d.output_tokens),
        )
        .where(
            d.customer_id.in_(customer_ids),
            d.account_id.in_(accounts),
            *([d.period_start == period_start] if period_start is not None else []),
        )
        .group_by(d.customer_id)
    )
    sums: dict[str, tuple[int, int, int, int]] = {customer_id: (0, 0, 0, 0) for customer_id in customer_ids}
    for customer_id, cost, requests, prompt, completion in connection.execute(query):
        sums[customer_id] = (int(cost or 0), int(requests or 0), int(prompt or 0), int(completion or 0))
    return sums


def request_counts(
    connection: Connection, since_period: int, among_customers: Among | None = None
) -> dict[tuple[str, int], int]:
    """(customer, period ≥ since_period) → its calls counted as requests (API.md "Usage"); with
    `among_customers`, of those customers only."""
    d = USAGE_DAILY.c
    query = select(d.customer_id, d.period_start, func.sum(d.request_count)).where(
        d.customer_id != "", d.period_start >= since_period
    )
    if among_customers is not None:
        query = query.where(among(d.customer_id, among_customers, connection.dialect.name == "postgresql"))
    query = query.group_by(d.customer_id, d.period_start)
    return {(customer_id, int(period)): int(n) for customer_id, period, n in connection.execute(query)}


def mismatches(connection: Connection, from_day: int) -> list[tuple[_Key, tuple[int, ...], tuple[int, ...]]]:
    """Aggregates of days ≥ `from_day` that differ from the usage records summed again: (key, kept,
    recomputed). Empty when exact; only meaningful for days whose records are not purged."""
    u = USAGE.c
    recomputed: dict[_Key, list[int]] = defaultdict(lambda: [0] * len(SUMMED))
    for row in connection.execute(select(USAGE).where(u.created >= from_day * DAY_S)):
        key, values = _of_row(row)
        for index, value in enumerate(values):
            recomputed[key][index] += value
    d = USAGE_DAILY.c
    kept = {
        (
            row.account_id,
            bool(row.livemode),
            int(row.day),
            row.customer_id,
            row.model_ref,
            int(row.period_start),
        ): tuple(int(getattr(row, name)) for name in SUMMED)
        for row in connection.execute(select(USAGE_DAILY).where(d.day >= from_day))
    }
    found = []
    for key in sorted(kept.keys() | recomputed.keys()):
        have, want = kept.get(key, (0,) * len(SUMMED)), tuple(recomputed.get(key, [0] * len(SUMMED)))
        if have != want:
            found.append((key, have, want))
    return found


def requests_column() -> Any:
    """1 for a usage record counted as a request, else 0 (the rows' side of `request_count`)."""
    return case((USAGE.c.status.in_(NOT_REQUESTS), 0), else_=1)


def tokens_columns() -> tuple[Any, Any]:
    """A usage record's input (prompt) and output (completion) tokens, every class summed."""
    u = USAGE.c
    prompt = u.input_tokens + u.cached_input_tokens + u.cache_write_tokens + u.audio_input_tokens + u.image_input_tokens
    return prompt, u.output_tokens + u.reasoning_tokens + u.audio_output_tokens
