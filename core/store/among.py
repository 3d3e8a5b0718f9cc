"""`column` among many values, as one query parameter on PostgreSQL: a `fair` core's load filters
by its share's account ids (issue 25), thousands of them, past what an IN list of parameters holds.
Or among the values a query selects: a background load's chunk of customers, named by its keyset
bounds (core/store/loader.py `load_customers`), so that every chunk sends the same statement —
compiled once by SQLAlchemy, the chunk read by the database from its index — instead of an IN list
of 2,000 values built, coerced and expanded again for each chunk."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, CompoundSelect, Select, String, and_, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY


@dataclass(frozen=True, slots=True)
class Between:
    """The values after `after`, up to `last` included (a keyset chunk of customer ids): one range
    of an index, read in order, rather than an index lookup per value."""

    after: str
    last: str


# Values, a query selecting them (one column), or a range of them.
Among = list[str] | Select[Any] | CompoundSelect | Between


def among(column: ColumnElement[Any], values: Among, postgres: bool) -> ColumnElement[bool]:
    """`column` is one of `values`: `= ANY(array)` on PostgreSQL, an IN list elsewhere; `IN (query)`
    when they are a query's; a range when they are one."""
    if isinstance(values, Between):
        return and_(column > values.after, column <= values.last)
    if isinstance(values, (Select, CompoundSelect)):
        return column.in_(values)
    if postgres:
        return column == any_(literal(values, type_=ARRAY(String)))
    return column.in_(values)
