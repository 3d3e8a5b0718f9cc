"""Rate-limit windows handed over with a partition (issue 25, docs/scaling.md "Partitions over
active cores"). The windows (core/domain/ratelimit.py) live in the core's memory only; a core that
hands a partition back writes its accounts' windows here **in the same transaction as the
release** (only for the partitions that release did free: a fenced giver writes none), and the
core that claims the partition reads and deletes them before it serves the partition. So an RPM or
TPM limit stays exact across a graceful hand-back. A core that dies or is frozen writes nothing:
its partitions' windows start empty at their next owner (the bound: up to one limit's worth more
in the 60 s after a takeover).

Entries are kept as `(at, requests, tokens)`, `at` on the meter's clock (wall time: the cores'
clocks are assumed within a second of each other); an open lease's slots no report named yet are
kept as taken (the lease's charge is not carried over, so it can no longer shrink: the new owner
may admit fewer, never more, until the entry leaves its window)."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from sqlalchemy import Connection, Engine, delete, insert

from core.store.tables import PARTITION_WINDOWS

WindowKey = tuple[str, ...]
Entries = list[tuple[float, int, int]]


def save(connection: Connection, windows: Iterable[tuple[int, WindowKey, Entries]]) -> int:
    """In the release's transaction: each window under its partition (replacing an older handover's)."""
    rows = [
        {"partition": partition, "window_key": _key(key), "entries_json": orjson.dumps(entries).decode()}
        for partition, key, entries in windows
        if entries and len(_key(key)) <= 300
    ]
    if not rows:
        return 0
    w = PARTITION_WINDOWS.c
    connection.execute(delete(PARTITION_WINDOWS).where(w.partition.in_(sorted({r["partition"] for r in rows}))))
    connection.execute(insert(PARTITION_WINDOWS), rows)
    return len(rows)


def take(engine: Engine, partitions: Iterable[int]) -> list[tuple[WindowKey, Entries]]:
    """The windows handed over with `partitions`, deleted as they are read (blocking)."""
    wanted = sorted(set(partitions))
    if not wanted:
        return []
    w = PARTITION_WINDOWS.c
    with engine.begin() as connection:
        rows = connection.execute(
            delete(PARTITION_WINDOWS).where(w.partition.in_(wanted)).returning(w.window_key, w.entries_json)
        ).all()
    return [
        (tuple(orjson.loads(key)), [(float(at), int(r), int(t)) for at, r, t in orjson.loads(entries)])
        for key, entries in rows
    ]


def _key(key: WindowKey) -> str:
    return orjson.dumps(list(key)).decode()
