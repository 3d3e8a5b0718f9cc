"""SQLite: a commit's rows of one table go as multi-row statements (`INSERT … VALUES (…), (…)`,
`UPDATE … FROM (VALUES …)`) of 2**k rows, not executemany's step per row, and land exactly as
executemany's rows did (core/store/driver_sql.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine

from core.domain.entities import Hold, HoldStateChange
from core.store import migrate, records
from core.store.driver_sql import execute_many
from core.store.engine import make_engine
from core.store.record_rows import transfer_row
from core.store.tables import HOLDS, TRANSFERS
from tests.core.store.test_unnest import AWKWARD, _hold_row, _statements, _transfer


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path / 'values.db'}")
    migrate.upgrade(engine)
    yield engine
    engine.dispose()


def test_a_commits_rows_go_as_a_few_statements_of_many_rows(engine: Engine) -> None:
    transfers = [_transfer(index, "m") for index in range(564)]  # 256 + 256 + 32 + 16 + 4
    holds = [_hold_row(index) for index in range(3)]  # 2 + 1
    seen = _statements(engine)
    with engine.begin() as connection:
        execute_many(connection, records._STATEMENTS[Hold][0], holds)
        changes = [HoldStateChange(f"h_{index}", "settled", 5) for index in range(3)]
        for statement, rows in records.grouped_statements([*transfers, *changes]):
            execute_many(connection, statement, rows)
    assert seen == [
        ("INSERT INTO holds", False),
        ("INSERT INTO holds", False),
        *[("INSERT INTO transfers", False)] * 5,
        ("UPDATE holds SET", False),
        ("UPDATE holds SET", False),
    ]
    with engine.connect() as connection:
        stored = {row.id: row._asdict() for row in connection.execute(sa.select(TRANSFERS))}
        states = connection.execute(sa.select(HOLDS.c.id, HOLDS.c.state, HOLDS.c.resolved_at)).all()
    assert stored == {t.id: records.transfer_row(t) for t in transfers}
    assert sorted(states) == [(f"h_{index}", "settled", 5) for index in range(3)]


def test_rows_land_as_executemany_wrote_them(engine: Engine) -> None:
    transfers = [_transfer(index, memo) for index, memo in enumerate(AWKWARD)]
    with engine.begin() as connection:
        for statement, rows in records.grouped_statements(transfers):
            execute_many(connection, statement, rows)
    with engine.connect() as connection:
        stored = {row.id: row._asdict() for row in connection.execute(sa.select(TRANSFERS))}
        kinds = connection.exec_driver_sql("SELECT DISTINCT typeof(livemode), typeof(amount_nano) FROM transfers").all()
    assert stored == {t.id: records.transfer_row(t) for t in transfers}
    assert kinds == [("integer", "integer")]


def test_a_duplicate_fails_the_statement_and_nothing_of_it_lands(engine: Engine) -> None:
    """A row that breaks a constraint fails the whole commit, as executemany's did: the group
    commit then retries its units one by one."""
    transfers = [_transfer(index, "m") for index in range(5)]
    with pytest.raises(sa.exc.IntegrityError), engine.begin() as connection:
        for statement, rows in records.grouped_statements([*transfers, transfers[3]]):
            execute_many(connection, statement, rows)
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(TRANSFERS)).scalar_one() == 0


def test_one_hold_changed_twice_in_a_commit_keeps_the_last_change(engine: Engine) -> None:
    """An UPDATE … FROM (VALUES …) would apply one of the two changes: executemany applies both in order."""
    seen = _statements(engine)
    with engine.begin() as connection:
        execute_many(connection, records._STATEMENTS[Hold][0], [_hold_row(1), _hold_row(2)])
        changes = [HoldStateChange("h_1", "settled", 5), HoldStateChange("h_2", "expired", 6)]
        changes.append(HoldStateChange("h_1", "expired", 7))
        for statement, rows in records.grouped_statements(changes):
            execute_many(connection, statement, rows)
    with engine.connect() as connection:
        states = {row[0]: row[1] for row in connection.execute(sa.select(HOLDS.c.id, HOLDS.c.resolved_at))}
    assert states == {"h_1": 7, "h_2": 6}
    assert seen[:2] == [("INSERT INTO holds", False), ("UPDATE holds SET", True)]


def test_a_commits_hold_changes_look_each_hold_up_by_its_key(engine: Engine) -> None:
    head = "UPDATE holds SET state = v.column1, resolved_at = v.column2 FROM (VALUES (?, ?, ?), (?, ?, ?))"
    with engine.connect() as connection:
        plan = connection.exec_driver_sql(
            f"EXPLAIN QUERY PLAN {head} AS v WHERE holds.id = v.column3", ("settled", 1, "h_1", "settled", 2, "h_2")
        ).all()
    details = [row[-1] for row in plan]
    assert any(detail.startswith("SEARCH holds USING") and "(id=?)" in detail for detail in details), details


def test_statements_made_for_one_call_each_get_their_own_rows_form(engine: Engine) -> None:
    """`insert(TABLE)` made per call is freed after it and the next may get its id: the multi-row
    form of one table must never be used for another's rows (bench/history_data.py makes them so)."""
    for round_ in range(50):
        with engine.begin() as connection:
            transfers = [transfer_row(_transfer(round_ * 4 + index, "t")) for index in range(3)]
            execute_many(connection, sa.insert(TRANSFERS), transfers)
            execute_many(connection, sa.insert(HOLDS), [_hold_row(round_ * 4 + index) for index in range(3)])
    with engine.connect() as connection:
        assert connection.execute(sa.select(sa.func.count()).select_from(TRANSFERS)).scalar_one() == 150
        assert connection.execute(sa.select(sa.func.count()).select_from(HOLDS)).scalar_one() == 150
