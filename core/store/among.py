"""`column` among many values, as one query parameter on PostgreSQL: a `fair` core's load filters
by its share's account ids (issue 25), thousands of them, past what an IN list of parameters holds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, String, any_, literal
from sqlalchemy.dialects.postgresql import ARRAY


def among(column: ColumnElement[Any], values: list[str], postgres: bool) -> ColumnElement[bool]:
    """`column` is one of `values`: `= ANY(array)` on PostgreSQL, an IN list elsewhere."""
    if postgres:
        return column == any_(literal(values, type_=ARRAY(String)))
    return column.in_(values)
