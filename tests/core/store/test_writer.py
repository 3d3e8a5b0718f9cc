"""core/store/writer.py: a unit's `apply` runs right after its commit, in the writer's task, even when
its caller is gone; a unit that cannot land runs its `undo` instead (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from core.domain.entities import Account
from core.store.engine import make_engine
from core.store.migrate import upgrade
from core.store.tables import ACCOUNTS
from core.store.writer import GroupCommitWriter
from tests.harness import create_postgres_database, drop_postgres_database

NOW = 1_800_000_000


@pytest.fixture(params=["sqlite", "postgres"])
async def writer(request: pytest.FixtureRequest, tmp_path: pathlib.Path) -> AsyncIterator[GroupCommitWriter]:
    url = f"sqlite:///{tmp_path}/w.db" if request.param == "sqlite" else create_postgres_database()
    engine = make_engine(url)
    writer = GroupCommitWriter(engine)
    try:
        upgrade(engine)
        writer.start()
        yield writer
    finally:
        await writer.close()
        engine.dispose()
        if request.param == "postgres":
            drop_postgres_database(url)


def _accounts(writer: GroupCommitWriter, account_id: str) -> int:
    with writer._engine.connect() as connection:
        query = select(func.count()).select_from(ACCOUNTS).where(ACCOUNTS.c.id == account_id)
        return int(connection.execute(query).scalar_one())


async def test_apply_runs_after_the_commit_and_its_result_is_returned(writer: GroupCommitWriter) -> None:
    seen: list[int] = []

    def apply() -> str:
        seen.append(_accounts(writer, "acct_a"))  # durable already when apply runs
        return "applied"

    assert await writer.write_then_apply([Account("acct_a", "A", NOW)], apply) == "applied"
    assert seen == [1]


async def test_a_unit_that_cannot_land_runs_undo_and_not_apply(writer: GroupCommitWriter) -> None:
    await writer.write([Account("acct_b", "B", NOW)])
    applied: list[bool] = []
    undone: list[BaseException] = []

    with pytest.raises(IntegrityError):
        await writer.write_then_apply([Account("acct_b", "again", NOW)], lambda: applied.append(True), undone.append)

    assert applied == []
    assert len(undone) == 1 and isinstance(undone[0], IntegrityError)


async def test_apply_runs_even_when_the_caller_is_cancelled(writer: GroupCommitWriter) -> None:
    applied = asyncio.Event()
    task = asyncio.ensure_future(writer.write_then_apply([Account("acct_c", "C", NOW)], applied.set))
    await asyncio.sleep(0)  # one turn: the unit is queued, not yet committed
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    await asyncio.wait_for(applied.wait(), timeout=30)
    assert _accounts(writer, "acct_c") == 1


async def test_a_unit_never_queued_is_undone_when_its_caller_is_cancelled(tmp_path: pathlib.Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/q.db")
    writer = GroupCommitWriter(engine, queue_max=1)  # not started: the queue stays full
    try:
        writer._queue.append(None)  # type: ignore[arg-type]
        undone: list[BaseException] = []
        unit = writer.write_then_apply([Account("acct_d", "D", NOW)], lambda: None, undone.append)
        task = asyncio.ensure_future(unit)
        await asyncio.sleep(0)  # one turn: the caller now waits for room in the queue
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert len(undone) == 1 and isinstance(undone[0], asyncio.CancelledError)
    finally:
        writer._executor.shutdown(wait=True)
        engine.dispose()


async def test_writers_waiting_for_room_in_a_full_queue_all_land(tmp_path: pathlib.Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/r.db")
    upgrade(engine)
    writer = GroupCommitWriter(engine, queue_max=1)  # every write but one at a time waits for room
    writer.start()
    try:
        ids = [f"acct_r{index}" for index in range(20)]
        await asyncio.wait_for(asyncio.gather(*(writer.write([Account(i, i, NOW)]) for i in ids)), timeout=60)
        assert [_accounts(writer, i) for i in ids] == [1] * 20
        writes = [asyncio.ensure_future(writer.write([Account(f"acct_s{index}", "S", NOW)])) for index in range(5)]
        await asyncio.sleep(0)  # queued or waiting for room, none committed yet
    finally:
        await writer.close()  # flushes what is queued and what waits for room
        engine.dispose()
    await asyncio.gather(*writes)
