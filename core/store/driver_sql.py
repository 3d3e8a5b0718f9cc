"""The group commit's statements as the driver's own SQL, compiled once and run with executemany.

SQLAlchemy builds each row's parameters through its bind processors and execution context: at a
thousand rows a commit that was most of the writer thread's CPU per settle. A statement whose every
parameter is of a plain type (integers, booleans, strings: values the driver binds as they are) is
compiled once per (statement, row keys) and handed to the driver as a list of tuples (positional
drivers) or of the rows themselves (named ones). Anything else — a sealed column, a JSON type, a
literal with a default value — keeps SQLAlchemy's path. Many rows of a plain INSERT (or of a
registered UPDATE) go as few statements: PostgreSQL's `unnest` of one array per column, SQLite's
multi-row VALUES of 2**k rows.
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Callable, Sequence
from itertools import chain
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, Boolean, Column, Connection, Integer, String, Table, Text
from sqlalchemy.sql import ClauseElement, Executable
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.dml import Insert
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


# PostgreSQL: one statement for all of a commit's rows of a type, each column one array parameter
# (`unnest`), instead of executemany's statement per row (psycopg's per-row work was most of the
# writer's CPU). Strings go as text[]: a cast to varchar(n)[] would cut a long value silently, where
# the column's own assignment cast raises as the row's insert does.
_ARRAY_TYPES: dict[type, str] = {
    AutoString: "text",
    String: "text",
    Text: "text",
    BigInteger: "bigint",
    Integer: "integer",
    Boolean: "boolean",
}
# id(statement) → its unnest SQL, or None: executemany
_unnest_cache: dict[tuple[int, tuple[str, ...]], str | None] = {}
# id(update statement) → its unnest SQL (`unnest_update`), its keys in the rows' order
_unnest_updates: dict[int, tuple[tuple[str, ...], str]] = {}
# id(update statement) → its keys, SQLite's UPDATE … FROM (VALUES …) before and after the rows
_UPDATE_FROM = sqlite3.sqlite_version_info >= (3, 33)  # UPDATE … FROM's first release
_values_updates: dict[int, tuple[tuple[str, ...], str, str]] = {}


def _array_type(column: Column[Any]) -> str | None:
    return _ARRAY_TYPES.get(type(column.type))


def unnest_insert_sql(table: Table, keys: Sequence[str], tail: str = "") -> str | None:
    """`INSERT INTO table (keys) SELECT * FROM unnest(%s::type[], …) tail`, or None when a column
    is not of a plain type."""
    types = [_array_type(table.c[key]) if key in table.c else None for key in keys]
    if any(kind is None for kind in types):
        return None
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    return f"INSERT INTO {table.name} ({', '.join(keys)}) SELECT * FROM unnest({arrays}){tail}"


def unnest_update(statement: Executable, table: Table, sets: dict[str, str], where: tuple[str, str]) -> None:
    """Register PostgreSQL's one-statement form of `statement` (an UPDATE … SET column = :key …
    WHERE column = :key, run for TupleRows): `sets` maps each row key to the column it sets,
    `where` is (row key, key column). Rows that name one key twice keep executemany (an UPDATE …
    FROM would apply only one of them)."""
    keys = (*sets, where[0])
    columns = (*sets.values(), where[1])
    types = [_array_type(table.c[column]) for column in columns]
    assert all(types), "unnest_update: columns of plain types only"
    arrays = ", ".join(f"%s::{kind}[]" for kind in types)
    assignments = ", ".join(f"{column} = v.{column}" for column in sets.values())
    sql = (
        f"UPDATE {table.name} SET {assignments} FROM unnest({arrays}) AS v({', '.join(columns)}) "
        f"WHERE {table.name}.{where[1]} = v.{where[1]}"
    )
    _unnest_updates[id(statement)] = (keys, sql)
    # SQLite (≥ 3.33): the same as UPDATE … FROM (VALUES …), each row's group filled in at run time
    values = ", ".join(f"{column} = v.column{index}" for index, column in enumerate(sets.values(), 1))
    _values_updates[id(statement)] = (
        keys,
        f"UPDATE {table.name} SET {values} FROM (VALUES ",
        f") AS v WHERE {table.name}.{where[1]} = v.column{len(keys)}",
    )


def _unnest(connection: Connection, statement: Executable, keys: tuple[str, ...], rows: Sequence[Any]) -> bool:
    """Run the rows (TupleRows, or dicts with `keys`) as one PostgreSQL statement, if `statement`
    has such a form; False if not."""
    tuples = isinstance(rows, TupleRows)
    update = _unnest_updates.get(id(statement))
    if update is not None:
        if not tuples or update[0] != keys:
            return False
        if len({row[-1] for row in rows}) != len(rows):  # one row twice: executemany's order decides
            return False
        sql: str | None = update[1]
    else:
        cache_key = (id(statement), keys)
        if cache_key in _unnest_cache:
            sql = _unnest_cache[cache_key]
        else:
            sql = None
            if isinstance(statement, Insert) and _plain_insert(statement):
                table = statement.table
                assert isinstance(table, Table)
                # every column named: SQLAlchemy would fill a missing one's Python-side default
                if set(keys) == set(table.c.keys()):
                    sql = unnest_insert_sql(table, keys)
            if len(_unnest_cache) < _CACHE_MAX:
                _unnest_cache[cache_key] = sql
    if sql is None:
        return False
    if not tuples:
        if len(keys) == 1:
            return False
        rows = list(map(itemgetter(*keys), rows))
    if update is None:
        execute_columns(connection, sql, rows)
        return True
    # An UPDATE names each row by its key: looking each one up in the key's index is the plan at any
    # table size. PostgreSQL's planner hashed the whole table instead (a sequential scan per commit)
    # until the table was large: 1,000 hold changes took 26 / 92 ms against 10 / 26 ms by the index
    # at 10,000 / 100,000 holds (at 400,000 it chose the index itself), so hash and merge joins are
    # off for this statement alone.
    hash_join, merge_join = connection.exec_driver_sql(_INDEX_JOINS_ONLY).one()[:2]
    execute_columns(connection, sql, rows)
    connection.exec_driver_sql(_JOINS_AS_BEFORE, (hash_join, merge_join))
    return True


_INDEX_JOINS_ONLY = (
    "SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'), "
    "set_config('enable_hashjoin', 'off', true), set_config('enable_mergejoin', 'off', true)"
)
_JOINS_AS_BEFORE = "SELECT set_config('enable_hashjoin', %s, true), set_config('enable_mergejoin', %s, true)"


def execute_columns(connection: Connection, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """PostgreSQL: `sql` (its `%s::type[]` parameters in the rows' column order) run once for all
    `rows`, each column sent as one array literal (`array_literal`)."""
    connection.exec_driver_sql(sql, tuple(map(array_literal, zip(*rows, strict=True))))


_NONE = type(None)
_NEEDS_ESCAPE = re.compile(r'["\\]')


def array_literal(column: Sequence[Any]) -> str | list[Any]:
    """One column's values as PostgreSQL's array literal (`{1,NULL,3}`, `{"a","b"}`), built with
    joins in C: psycopg's own list dumper runs Python per element, and at a commit's thousands of
    rows that was most of the writer's CPU. Values of the types the statements bind unchanged (str,
    int, bool, None); any other type goes to psycopg as a list, dumped as before. The statements cast
    each parameter (`%s::bigint[]`), so the literal is read as the array it spells."""
    kinds = set(map(type, column))
    kinds.discard(_NONE)
    if len(kinds) != 1:
        return list(column) if kinds else "{" + ",".join(["NULL"] * len(column)) + "}"
    kind = kinds.pop()
    if kind is int:
        values: Sequence[Any] = column
        if None in column:
            values = ["NULL" if value is None else value for value in column]
        return "{" + ",".join(map(str, values)) + "}"
    if kind is bool:
        return "{" + ",".join(["NULL" if value is None else "t" if value else "f" for value in column]) + "}"
    if kind is not str:
        return list(column)
    if None in column:
        # NULL unquoted; every string quoted, so "NULL" the string stays a string
        quoted = ["NULL" if value is None else '"' + _escape(value) + '"' for value in column]
        return "{" + ",".join(quoted) + "}"
    joined = '","'.join(column)
    if _NEEDS_ESCAPE.search(joined):
        joined = '","'.join(map(_escape, column))
    return '{"' + joined + '"}'


def _escape(value: str) -> str:
    """An element inside double quotes: backslash and double quote backslash-escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"')


def _plain_insert(statement: Insert) -> bool:
    """An INSERT of the rows' values alone: no ON CONFLICT, RETURNING, SELECT or multi-VALUES."""
    return (
        statement._post_values_clause is None
        and not statement._returning
        and statement.select is None
        and not statement._multi_values
        and not statement._values
    )


def execute_many(connection: Connection, statement: Executable, rows: Sequence[Any]) -> None:
    """Run `statement` once per row, as the driver's executemany when the statement allows it.
    Rows are dicts — like SQLAlchemy's executemany, the first row's keys decide the statement's
    parameters (the rows of one record type come from one row function, so they all have the same
    keys) — or a `TupleRows`. On PostgreSQL, the rows of a plain INSERT naming every column, or
    TupleRows of a registered UPDATE (`unnest_update`), go as one statement whatever their number; on
    SQLite, a plain INSERT's rows and such an UPDATE's go as multi-row statements of 2**k rows."""
    tuples = isinstance(rows, TupleRows)
    keys = rows.keys if isinstance(rows, TupleRows) else tuple(rows[0])
    if len(rows) > 1 and connection.dialect.name == "postgresql" and _unnest(connection, statement, keys, rows):
        return
    on_sqlite = len(rows) > 1 and connection.dialect.name == "sqlite"  # multi-row statements (below)
    if on_sqlite and isinstance(rows, TupleRows) and _update_values(connection, statement, rows):
        return
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
    if on_sqlite and parameters is not None and _insert_values(connection, statement, sql, rows, parameters):
        return
    if parameters is None:
        connection.exec_driver_sql(sql, list(rows))
    elif parameters is _same:
        connection.exec_driver_sql(sql, rows if type(rows) is list else list(rows))
    else:
        connection.exec_driver_sql(sql, list(map(parameters, rows)))


# SQLite: a plain INSERT's rows as multi-row VALUES, many rows a statement. sqlite3's executemany
# lets go of the GIL around every row's step and takes it back after, so with the event loop busy
# the writer thread waited for the GIL row by row (a commit's thousands of rows); it also binds and
# steps each row through Python's cursor. Statements of 2**k rows (k ≤ 8, within SQLite's limit on
# parameters), so each table has at most 9 statement texts, kept in sqlite3's statement cache: one
# prepared afresh costs ~14 µs a row (a 1,024-row one ~14 ms here), so not larger, although 1,024-row
# statements ran no faster (writer statements 19–21 µs a settle either way, executemany 25–29).
_VALUES_ROWS_MAX = 256
_VALUES_GROUP = re.compile(r"\(\?(?:, \?)*\)")
# (id(statement), its single-row SQL) → (the statement up to and with "VALUES ", one row's "(?, ?, …)"),
# or None. The SQL is in the key: a statement made for one call (`insert(TABLE)`) is freed after it,
# and the next one made may get its id — for another table, with another group of parameters.
_values_cache: dict[tuple[int, str], tuple[str, str] | None] = {}


def _values_form(statement: Executable, sql: str) -> tuple[str, str] | None:
    """`sql` (the compiled single-row INSERT) split into its head and one row's group of parameters,
    or None: not a plain INSERT of the rows' values."""
    if not isinstance(statement, Insert) or not _plain_insert(statement):
        return None
    head, found, group = sql.rpartition(" VALUES ")
    if not found or not _VALUES_GROUP.fullmatch(group):
        return None
    return head + found, group


def _update_values(connection: Connection, statement: Executable, rows: TupleRows) -> bool:
    """SQLite: the TupleRows of a registered UPDATE (`unnest_update`) as UPDATE … FROM (VALUES …),
    many rows a statement; False if `statement` has no such form or names one key twice (then
    executemany's order decides, as on PostgreSQL)."""
    update = _values_updates.get(id(statement))
    if update is None or not _UPDATE_FROM or update[0] != rows.keys or len({row[-1] for row in rows}) != len(rows):
        return False
    _, head, tail = update
    group = "(" + ", ".join("?" * len(rows.keys)) + ")"
    _in_chunks(connection, rows, lambda size: head + ", ".join([group] * size) + tail)
    return True


def _in_chunks(connection: Connection, rows: Sequence[Sequence[Any]], sql: Callable[[int], str]) -> None:
    """Run `rows` (each a row's parameters) as statements of 2**k rows, `sql(size)` each."""
    dbapi = connection.connection.dbapi_connection
    assert isinstance(dbapi, sqlite3.Connection)
    limit = max(1, min(_VALUES_ROWS_MAX, dbapi.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // len(rows[0])))
    start, left = 0, len(rows)
    while left:
        size = 1 << (min(left, limit).bit_length() - 1)  # the largest power of two that fits
        connection.exec_driver_sql(sql(size), tuple(chain.from_iterable(rows[start : start + size])))
        start, left = start + size, left - size


def _insert_values(
    connection: Connection, statement: Executable, sql: str, rows: Sequence[Any], parameters: Callable[[Any], Any]
) -> bool:
    """Run `rows` (a row's parameters in `sql`'s order: `parameters(row)`) as multi-row INSERTs;
    False if `statement` is not a plain INSERT."""
    key = (id(statement), sql)
    if key in _values_cache:
        form = _values_cache[key]
    else:
        form = _values_form(statement, sql)
        if len(_values_cache) < _CACHE_MAX:
            _values_cache[key] = form
    if form is None:
        return False
    head, group = form
    positional = rows if parameters is _same else list(map(parameters, rows))
    _in_chunks(connection, positional, lambda size: head + ",".join([group] * size))
    return True
