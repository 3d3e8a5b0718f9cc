"""The request log's statement (written through the group-commit writer) and its reads: the
edge's entries beside the usage records, so a call an edge died before recording is listed too."""

from __future__ import annotations

from collections.abc import Callable
from operator import attrgetter
from typing import Any

from sqlalchemy import Engine, and_, exists, insert, literal, or_, select, union_all
from sqlalchemy.sql import Executable

from core.domain.requests import SETTLED_BY, RequestLogEntry, RequestQuery, RequestRow
from core.store.tables import REQUEST_LOG, USAGE

# The table's columns, which are the entry's fields: a commit's entries go as tuples in this order
# (records.py `_TUPLE_ROWS`), one C call each — dataclasses.asdict deep-copied every entry, one per
# model call, ~4 % of the core's samples at 200 req/s (docs/performance.md).
REQUEST_LOG_KEYS = tuple(column.name for column in REQUEST_LOG.columns)
entry_values: Callable[[RequestLogEntry], tuple[Any, ...]] = attrgetter(*REQUEST_LOG_KEYS)
STATEMENTS: dict[type, tuple[Executable, Callable[[Any], dict[str, Any]]]] = {
    RequestLogEntry: (insert(REQUEST_LOG), lambda entry: dict(zip(REQUEST_LOG_KEYS, entry_values(entry), strict=True))),
}
_L, _U = REQUEST_LOG.c, USAGE.c
_INPUT = (
    _U.input_tokens + _U.cached_input_tokens + _U.cache_write_tokens + _U.audio_input_tokens + _U.image_input_tokens
)
_OUTPUT = _U.output_tokens + _U.reasoning_tokens + _U.audio_output_tokens


def _rows(account_id: str, livemode: bool) -> Any:
    """Every row of a tenant: the edge's entries (with their usage when admitted), then the usage
    records no entry names (an edge that died first, a fallback's failed attempt)."""
    logged = (
        select(
            _L.request_id,
            _L.customer_id,
            _L.route,
            _L.model,
            _L.resolved_model,
            _L.status,
            _L.error_code,
            _INPUT.label("input_tokens"),
            _OUTPUT.label("output_tokens"),
            _U.cost_nano,
            _U.billable_nano,
            _L.latency_ms,
            _U.status.label("usage_status"),
            _L.created,
            _L.created_ms.label("sort_ms"),
        )
        .select_from(REQUEST_LOG.outerjoin(USAGE, _U.request_id == _L.request_id))
        .where(_L.account_id == account_id, _L.livemode == livemode)
    )
    unlogged = select(
        _U.request_id,
        _U.customer_id,
        literal("").label("route"),
        _U.model_ref.label("model"),
        _U.model_ref.label("resolved_model"),
        literal(0).label("status"),
        literal("").label("error_code"),
        _INPUT.label("input_tokens"),
        _OUTPUT.label("output_tokens"),
        _U.cost_nano,
        _U.billable_nano,
        literal(-1).label("latency_ms"),
        _U.status.label("usage_status"),
        _U.created,
        (_U.created * 1000).label("sort_ms"),
    ).where(
        _U.account_id == account_id,
        _U.livemode == livemode,
        ~exists(select(_L.request_id).where(_L.request_id == _U.request_id)),
    )
    return union_all(logged, unlogged).subquery("requests")


def _row(found: Any) -> RequestRow:
    return RequestRow(
        request_id=found.request_id,
        customer_id=found.customer_id,
        route=found.route,
        model=found.model,
        resolved_model=found.resolved_model,
        status=found.status,
        error_code=found.error_code,
        input_tokens=found.input_tokens or 0,
        output_tokens=found.output_tokens or 0,
        cost_nano=found.cost_nano or 0,
        billable_nano=found.billable_nano or 0,
        latency_ms=found.latency_ms,
        settled_by=SETTLED_BY.get(found.usage_status or "", ""),
        created=found.created,
    )


def request(engine: Engine, account_id: str, livemode: bool, request_id: str) -> RequestRow | None:
    rows = _rows(account_id, livemode)
    with engine.connect() as connection:
        found = connection.execute(select(rows).where(rows.c.request_id == request_id)).first()
    return None if found is None else _row(found)


def requests(engine: Engine, account_id: str, livemode: bool, query: RequestQuery) -> list[RequestRow]:
    """One page (limit + 1 rows, to tell has_more), newest first."""
    rows = _rows(account_id, livemode)
    statement = select(rows)
    if query.customer_id is not None:
        statement = statement.where(rows.c.customer_id == query.customer_id)
    if query.model:
        statement = statement.where(or_(rows.c.model == query.model, rows.c.resolved_model == query.model))
    if query.status:
        statement = statement.where(rows.c.status == query.status)
    if query.since:
        statement = statement.where(rows.c.created >= query.since)
    if query.until:
        statement = statement.where(rows.c.created < query.until)
    cursor_id = query.starting_after or query.ending_before
    with engine.connect() as connection:
        if cursor_id:
            cursor = connection.execute(select(rows.c.sort_ms).where(rows.c.request_id == cursor_id)).first()
            if cursor is None:
                return []
            at, key = rows.c.sort_ms, rows.c.request_id
            if query.starting_after:
                statement = statement.where(or_(at < cursor.sort_ms, and_(at == cursor.sort_ms, key < cursor_id)))
            else:
                statement = statement.where(or_(at > cursor.sort_ms, and_(at == cursor.sort_ms, key > cursor_id)))
        if query.ending_before:
            statement = statement.order_by(rows.c.sort_ms.asc(), rows.c.request_id.asc())
        else:
            statement = statement.order_by(rows.c.sort_ms.desc(), rows.c.request_id.desc())
        found = connection.execute(statement.limit(query.limit + 1)).all()
    return [_row(row) for row in found]
