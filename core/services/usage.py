"""Usage reports (API.md "Usage"): totals and groups from the usage records the ledger posts with —
whole days from their daily aggregates (core/store/usage_daily.py), the range's partial first and
last days from the records themselves.

A database read (never on the call path), bounded: one tenant, one range, at most 100 groups.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, Subquery, and_, func, literal, or_, select, union_all

from core.domain.periods import period_bounds
from core.services.core import Core, Principal, require_customer, require_scope
from core.services.pages import DEFAULT_LIMIT, MAX_LIMIT
from core.store import usage_daily
from core.store.tables import USAGE, USAGE_DAILY
from core.store.usage_daily import SUMMED
from ringside_server.errors import RingsideError

GROUPS = ("", "day", "model", "customer")
# order_by → the position of its sum in _sums() (margin is billable − cost)
RANKINGS = ("billable_usd", "cost_usd", "margin_usd", "request_count")
SECONDS_PER_DAY = 86_400
MAX_RANGE_S = 400 * SECONDS_PER_DAY


@dataclass(frozen=True, slots=True)
class Totals:
    cost_nano: int = 0
    billable_nano: int = 0
    request_count: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@dataclass(frozen=True, slots=True)
class UsageReport:
    since: int
    until: int
    totals: Totals
    groups: list[tuple[str, Totals]] = field(default_factory=list)
    has_more: bool = False


def _source(account_id: str, livemode: bool, customer_id: str | None, since: int, until: int) -> Subquery:
    """One row per (day, customer, model) from the daily aggregates for the days lying wholly in
    [since, until), plus one row per usage record for the parts of the range's first and last day
    outside them: the same totals whether or not old records were purged (retention)."""
    u, d = USAGE.c, USAGE_DAILY.c
    first_day, end_day = -(-since // SECONDS_PER_DAY), until // SECONDS_PER_DAY
    on_rows: list[ColumnElement[bool]] = [
        u.account_id == account_id,
        u.livemode == livemode,
        u.created >= since,
        u.created < until,
    ]
    if customer_id is not None:
        on_rows.append(u.customer_id == customer_id)
    parts: list[Select[Any]] = []
    if first_day < end_day:
        on_rows.append(or_(u.created < first_day * SECONDS_PER_DAY, u.created >= end_day * SECONDS_PER_DAY))
        on_days = [d.account_id == account_id, d.livemode == livemode, d.day >= first_day, d.day < end_day]
        if customer_id is not None:
            on_days.append(d.customer_id == customer_id)
        parts.append(select(*(d[name] for name in ("day", "customer_id", "model_ref", *SUMMED))).where(*on_days))
    prompt, completion = usage_daily.tokens_columns()
    parts.append(
        select(
            (u.created // literal(SECONDS_PER_DAY)).label("day"),  # floor division, rendered per dialect
            func.coalesce(u.customer_id, "").label("customer_id"),
            u.model_ref,
            u.cost_nano,
            u.posted_nano,
            usage_daily.requests_column().label("request_count"),
            prompt.label("input_tokens"),
            completion.label("output_tokens"),
        ).where(*on_rows)
    )
    return (union_all(*parts) if len(parts) > 1 else parts[0]).subquery("usage")


def _sums(source: Subquery) -> list[ColumnElement[int]]:
    c = source.c
    return [
        func.coalesce(func.sum(c.cost_nano), 0),
        func.coalesce(func.sum(c.posted_nano), 0),
        func.coalesce(func.sum(c.request_count), 0),
        func.coalesce(func.sum(c.input_tokens), 0),
        func.coalesce(func.sum(c.output_tokens), 0),
    ]


def _totals(row: tuple[int, ...]) -> Totals:
    return Totals(*(int(value) for value in row))


def _key(group_by: str, value: Any) -> str:
    if group_by == "day":  # days since the epoch (an int, or a Decimal from some drivers)
        return datetime.fromtimestamp(int(value) * SECONDS_PER_DAY, tz=UTC).strftime("%Y-%m-%d")
    return str(value)


@dataclass(frozen=True, slots=True)
class Ranking:
    """Customers ranked by one of RANKINGS (API.md "Usage": top customers, negative margins first)."""

    order_by: str
    descending: bool


def _metric(source: Subquery, order_by: str) -> ColumnElement[int]:
    cost, billable, requests = _sums(source)[:3]
    return {"billable_usd": billable, "cost_usd": cost, "margin_usd": billable - cost, "request_count": requests}[
        order_by
    ]


def _ranked(
    connection: Connection, source: Subquery, ranking: Ranking, limit: int, starting_after: str
) -> tuple[list[tuple[str, Totals]], bool]:
    """One page of customers by rank; ties broken by customer id; the cursor is a customer id."""
    key = source.c.customer_id
    metric = _metric(source, ranking.order_by)
    statement = select(key.label("key"), *_sums(source)).group_by(key)
    if starting_after:
        found, matching = connection.execute(select(metric, func.count()).where(key == starting_after)).one()
        if not matching:
            raise RingsideError("invalid_request", f"No usage row '{starting_after}' to start after.", "starting_after")
        if ranking.descending:
            statement = statement.having(or_(metric < found, and_(metric == found, key < starting_after)))
        else:
            statement = statement.having(or_(metric > found, and_(metric == found, key > starting_after)))
    order = (metric.desc(), key.desc()) if ranking.descending else (metric.asc(), key.asc())
    rows = connection.execute(statement.order_by(*order).limit(limit + 1)).all()
    groups = [(str(row[0]), _totals(tuple(row[1:]))) for row in rows]
    return groups[:limit], len(groups) > limit


def _query(
    connection: Connection,
    source: Subquery,
    group_by: str,
    limit: int,
    starting_after: str,
    ranking: Ranking | None = None,
) -> tuple[Totals, list[tuple[str, Totals]], bool]:
    totals = _totals(tuple(connection.execute(select(*_sums(source))).one()))
    if not group_by:
        return totals, [], False
    if ranking is not None:
        return totals, *_ranked(connection, source, ranking, limit, starting_after)
    key: ColumnElement[Any] = {"day": source.c.day, "model": source.c.model_ref}.get(group_by, source.c.customer_id)
    statement = select(key.label("key"), *_sums(source)).group_by(key).order_by(key)
    if starting_after:
        after: object = starting_after
        if group_by == "day":
            try:
                after = (
                    int(datetime.strptime(starting_after, "%Y-%m-%d").replace(tzinfo=UTC).timestamp())
                    // SECONDS_PER_DAY
                )
            except ValueError:
                raise RingsideError(
                    "invalid_request",
                    "starting_after must be a day (YYYY-MM-DD) when grouping by day.",
                    "starting_after",
                ) from None
        statement = statement.having(key > after)
    rows = connection.execute(statement.limit(limit + 1)).all()
    groups = [(_key(group_by, row[0]), _totals(tuple(row[1:]))) for row in rows]
    return totals, groups[:limit], len(groups) > limit


async def get_usage(
    core: Core,
    principal: Principal,
    customer_ref: str,
    since: int,
    until: int,
    group_by: str,
    limit: int,
    starting_after: str,
    order_by: str = "",
    order: str = "",
) -> UsageReport:
    require_scope(principal, "api:read", customer_bound=True)
    if principal.customer_id:  # a Client Token reads its own customer's usage only
        if group_by == "customer":
            raise RingsideError("endpoint_not_allowed", "A client token cannot group usage by customer.", "group_by")
        customer_ref = customer_ref or principal.customer_id
    if group_by not in GROUPS:
        raise RingsideError("invalid_request", "group_by must be one of day, model, customer.", "group_by")
    limit = limit or DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise RingsideError("invalid_request", "limit must be between 1 and 100.", "limit")
    ranking = _ranking(group_by, order_by, order)
    now = core.now()
    anchor, customer_id = 1, None
    if customer_ref:
        customer = core.state.find_customer(principal.account_id, principal.livemode, customer_ref)
        if customer is None:
            raise RingsideError("customer_not_found", f"No such customer: '{customer_ref[:300]}'.", "customer_id")
        require_customer(principal, customer.id, customer_ref)
        anchor, customer_id = customer.billing_anchor_day, customer.id
    since = since or period_bounds(now, anchor)[0]
    until = until or now + 1
    if until <= since:
        raise RingsideError("invalid_request", "until must be after since.", "until")
    if until - since > MAX_RANGE_S:
        raise RingsideError("invalid_request", "A usage range may span at most 400 days.", "since")
    source = _source(principal.account_id, principal.livemode, customer_id, since, until)

    def run() -> tuple[Totals, list[tuple[str, Totals]], bool]:
        with core.engine.connect() as connection:
            return _query(connection, source, group_by, limit, starting_after[:300], ranking)

    totals, groups, has_more = await asyncio.get_running_loop().run_in_executor(None, run)
    return UsageReport(since, until, totals, groups, has_more)


def _ranking(group_by: str, order_by: str, order: str) -> Ranking | None:
    if order and order not in ("desc", "asc"):
        raise RingsideError("invalid_request", "order must be desc or asc.", "order")
    if not order_by:
        if order:
            raise RingsideError("invalid_request", "order goes with order_by.", "order")
        return None
    if order_by not in RANKINGS:
        raise RingsideError("invalid_request", f"order_by must be one of {', '.join(RANKINGS)}.", "order_by")
    if group_by != "customer":
        raise RingsideError("invalid_request", "order_by ranks customers: use it with group_by=customer.", "order_by")
    return Ranking(order_by, order != "asc")
