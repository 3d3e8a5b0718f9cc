"""The group commit's statements as the driver's own SQL, compiled once and run with executemany.

SQLAlchemy builds each row's parameters through its bind processors and execution context: at a
thousand rows a commit that was most of the writer thread's CPU per settle. A statement whose every
parameter is of a plain type (integers, booleans, strings: values the driver binds as they are) is
compiled once per (statement, row keys) and handed to the driver as a list of tuples (positional
drivers) or of the rows themselves (named ones). Anything else — a sealed column, a JSON type, a
literal with a default value — keeps SQLAlchemy's path.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, Integer, String, Text
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlmodel.sql.sqltypes import AutoString

# Types the drivers bind unchanged: SQLAlchemy's processors for them only repeat what sqlite3 and
# psycopg do themselves (a bool is stored as 1/0 by sqlite3 either way); SQLModel's AutoString is a
# String without a bind step. Exact types, not subclasses: SealedText (a TypeDecorator) must not pass.
_PLAIN_TYPES = (AutoString, BigInteger, Boolean, Integer, String, Text)

# (statement, dialect name, row keys, rows are tuples) → (driver SQL, a row's parameters as the
# driver takes them — None for dict rows and a named paramstyle: the row itself), or None: use
# SQLAlchemy's path.
_Compiled = tuple[str, Callable[[Any], Any] | None] | None
_cache: dict[tuple[int, str, tuple[str, ...], bool], _Compiled] = {}
_CACHE_MAX = 512


def _compile(statement: Executable, connection: Connection, keys: tuple[str, ...], tuples: bool) -> _Compiled:
    if not isinstance(statement, ClauseElement):
        return None
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    binds = compiled.binds
    if set(compiled.bind_names.values()) != set(keys) or len(compiled.bind_names) != len(keys):
        return None  # a parameter the rows do not carry (a literal, a default): not ours to fill
    if any(type(bind.type) not in _PLAIN_TYPES for bind in binds.values()):
        return None
    sql = compiled.string
    if compiled.positional:
        order = list(compiled.positiontup or [])
    elif tuples and connection.dialect.paramstyle == "pyformat":
        # psycopg takes `%s` with a sequence as well: the tuples go to it as they are
        order = _NAMED.findall(sql)
        sql = _NAMED.sub("%s", sql)
    elif tuples:
        return sql, _as_dicts(keys)
    else:
        return sql, None
    if tuples:
        if order == list(keys):
            return sql, _same
        return sql, _reordered([keys.index(name) for name in order])
    # itemgetter of one name returns the value, not a 1-tuple
    return sql, itemgetter(*order) if len(order) > 1 else (lambda row: tuple(row[name] for name in order))


_NAMED = re.compile(r"%\((\w+)\)s")


def _same(row: Any) -> Any:
    return row


def _reordered(indexes: list[int]) -> Callable[[Any], Any]:
    if len(indexes) == 1:
        index = indexes[0]
        return lambda row: (row[index],)
    return itemgetter(*indexes)


def _as_dicts(keys: tuple[str, ...]) -> Callable[[Any], Any]:
    return lambda row: dict(zip(keys, row, strict=True))


class TupleRows(list[tuple[Any, ...]]):
    """Rows as tuples in `keys` order: the group commit's most frequent records (transfers, usage
    records, hold state changes) skip building a dict per row that would only be read back in order."""

    __slots__ = ("keys",)

    def __init__(self, keys: tuple[str, ...]) -> None:
        super().__init__()
        self.keys = keys


def execute_many(connection: Connection, statement: Executable, rows: Sequence[Any]) -> None:
    """Run `statement` once per row, as the driver's executemany when the statement allows it.
    Rows are dicts — like SQLAlchemy's executemany, the first row's keys decide the statement's
    parameters (the rows of one record type come from one row function, so they all have the same
    keys) — or a `TupleRows`."""
    tuples = isinstance(rows, TupleRows)
    keys = rows.keys if isinstance(rows, TupleRows) else tuple(rows[0])
    cache_key = (id(statement), connection.dialect.name, keys, tuples)
    if cache_key in _cache:
        compiled = _cache[cache_key]
    else:
        compiled = _compile(statement, connection, keys, tuples)
        if len(_cache) < _CACHE_MAX:  # statements are module constants: the cache stays small
            _cache[cache_key] = compiled
    if compiled is None:
        connection.execute(statement, list(map(_as_dicts(keys), rows)) if tuples else list(rows))
        return
    sql, parameters = compiled
    if parameters is None:
        connection.exec_driver_sql(sql, list(rows))
    elif parameters is _same:
        connection.exec_driver_sql(sql, rows if type(rows) is list else list(rows))
    else:
        connection.exec_driver_sql(sql, list(map(parameters, rows)))
