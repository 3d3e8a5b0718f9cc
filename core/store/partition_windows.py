"""Rate-limit windows handed over with a partition (issue 25, docs/scaling.md "Partitions over
active cores"). The windows (core/domain/ratelimit.py) live in the core's memory only; a core that
hands a partition back writes its accounts' windows here **in the same transaction as the
release** (only for the partitions that release did free: a fenced giver writes none), and the
core that claims the partition reads them before it serves the partition. So an RPM or
TPM limit stays exact across a graceful hand-back. Between hand-backs each owner **checkpoints**
its partitions' windows into the same rows every `RINGSIDE_CORE_WINDOW_CHECKPOINT_S` (`checkpoint`:
only the windows changed since the last one, in one transaction fenced on the partitions), so a
core that dies or is frozen leaves its windows as of its last checkpoint: the next owner takes
those, and what it does not know is at most the admissions of one interval.

Entries are kept as `(at, requests, tokens)`, `at` on the meter's clock (wall time: the cores'
clocks are assumed within a second of each other); an open lease's slots no report named yet are
kept as taken (the lease's charge is not carried over, so it can no longer shrink: the new owner
may admit fewer, never more, until the entry leaves its window)."""

from __future__ import annotations

from collections.abc import Iterable

import orjson
from sqlalchemy import Connection, Engine, bindparam, delete, insert, select, text, tuple_
from sqlalchemy.dialects.postgresql import insert as upsert

from core.store.partition_fence import Fence, bound_idle
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


# The partitions of a checkpoint still this core's at its epoch and not released or lapsed, locked
# FOR SHARE (a claim or a release waits for the checkpoint, which never lands after either).
_STILL_HELD = text(
    "SELECT partition, owner, epoch FROM partition_leases WHERE partition IN :partitions "
    "AND expires_at_ms > CAST(EXTRACT(EPOCH FROM clock_timestamp()) * 1000 AS BIGINT) ORDER BY partition FOR SHARE"
).bindparams(bindparam("partitions", expanding=True))


def checkpoint(
    engine: Engine,
    fence: Fence,
    changed: Iterable[tuple[int, WindowKey, Entries]],
    gone: Iterable[tuple[int, WindowKey]],
) -> int:
    """(Blocking) writes the `changed` windows and deletes the `gone` ones, each under its
    partition, for the partitions this core still holds at its epoch (the others are skipped: a
    stale owner never overwrites what a hand-back or a new owner wrote). → rows written or deleted."""
    changed, gone = list(changed), list(gone)
    wanted = sorted({partition for partition, *_ in changed} | {partition for partition, _ in gone})
    if not wanted:
        return 0
    with engine.begin() as connection:
        bound_idle(connection, fence.idle_ms)
        rows = connection.execute(_STILL_HELD, {"partitions": wanted}).all()
        held = {int(p) for p, owner, epoch in rows if owner == fence.core_id and fence.held.get(int(p)) == int(epoch)}
        values = [
            {"partition": partition, "window_key": _key(key), "entries_json": orjson.dumps(entries).decode()}
            for partition, key, entries in changed
            if partition in held and len(_key(key)) <= 300
        ]
        w = PARTITION_WINDOWS.c
        if values:
            statement = upsert(PARTITION_WINDOWS).values(values)
            connection.execute(
                statement.on_conflict_do_update(
                    index_elements=[w.partition, w.window_key], set_={"entries_json": statement.excluded.entries_json}
                )
            )
        dropped = [(partition, _key(key)) for partition, key in gone if partition in held]
        if dropped:
            connection.execute(delete(PARTITION_WINDOWS).where(tuple_(w.partition, w.window_key).in_(dropped)))
    return len(values) + len(dropped)


def read(engine: Engine, partitions: Iterable[int]) -> list[tuple[WindowKey, Entries]]:
    """The windows written for `partitions` — by a hand-back's release, a clean stop's or the last
    checkpoint of their previous owner (blocking). Left in place: the new owner's checkpoints write
    over them (and delete a window it forgets), so a partition that moves again before its new
    owner's first checkpoint still carries them. Entries older than the window are dropped when
    absorbed, so rows left from an older owner never count twice or late."""
    wanted = sorted(set(partitions))
    if not wanted:
        return []
    w = PARTITION_WINDOWS.c
    with engine.connect() as connection:
        rows = connection.execute(
            select(w.window_key, w.entries_json).where(w.partition.in_(wanted)).order_by(w.partition, w.window_key)
        ).all()
    return [
        (tuple(orjson.loads(key)), [(float(at), int(r), int(t)) for at, r, t in orjson.loads(entries)])
        for key, entries in rows
    ]


def _key(key: WindowKey) -> str:
    return orjson.dumps(list(key)).decode()
