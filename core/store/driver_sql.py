"""The group commit's statements as the driver's own SQL, compiled once and run with executemany.

SQLAlchemy builds each row's parameters through its bind processors and execution context: at a
thousand rows a commit that was most of the writer thread's CPU per settle. A statement whose every
parameter is of a plain type (integers, booleans, strings: values the driver binds as they are) is
compiled once per (statement, row keys) and handed to the driver as a list of tuples (positional
drivers) or of the rows themselves (named ones). Anything else — a sealed column, a JSON type, a
literal with a default value — keeps SQLAlchemy's path.
"""

from __future__ import annotations

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

# (statement, dialect name, row keys) → (driver SQL, a row's parameters in order — None for a named
# paramstyle, which takes the row itself), or None: use SQLAlchemy's path.
_Compiled = tuple[str, Callable[[dict[str, Any]], Any] | None] | None
_cache: dict[tuple[int, str, tuple[str, ...]], _Compiled] = {}
_CACHE_MAX = 512


def _compile(statement: Executable, connection: Connection, keys: tuple[str, ...]) -> _Compiled:
    if not isinstance(statement, ClauseElement):
        return None
    compiled = statement.compile(dialect=connection.dialect, column_keys=list(keys))
    assert isinstance(compiled, SQLCompiler)
    binds = compiled.binds
    if set(compiled.bind_names.values()) != set(keys) or len(compiled.bind_names) != len(keys):
        return None  # a parameter the rows do not carry (a literal, a default): not ours to fill
    if any(type(bind.type) not in _PLAIN_TYPES for bind in binds.values()):
        return None
    if not compiled.positional:
        return compiled.string, None
    order = compiled.positiontup or []
    # itemgetter of one name returns the value, not a 1-tuple
    return compiled.string, itemgetter(*order) if len(order) > 1 else (lambda row: tuple(row[name] for name in order))


def execute_many(connection: Connection, statement: Executable, rows: Sequence[dict[str, Any]]) -> None:
    """Run `statement` once per row, as the driver's executemany when the statement allows it.
    Like SQLAlchemy's executemany, the first row's keys decide the statement's parameters (the rows
    of one record type come from one row function, so they all have the same keys)."""
    keys = tuple(rows[0])
    cache_key = (id(statement), connection.dialect.name, keys)
    if cache_key in _cache:
        compiled = _cache[cache_key]
    else:
        compiled = _compile(statement, connection, keys)
        if len(_cache) < _CACHE_MAX:  # statements are module constants: the cache stays small
            _cache[cache_key] = compiled
    if compiled is None:
        connection.execute(statement, list(rows))
        return
    sql, parameters = compiled
    if parameters is None:
        connection.exec_driver_sql(sql, list(rows))
    else:
        connection.exec_driver_sql(sql, list(map(parameters, rows)))
