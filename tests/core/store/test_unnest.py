"""PostgreSQL: a commit's rows of one table go as one statement (`INSERT … SELECT FROM unnest`,
`UPDATE … FROM unnest`), and land exactly as executemany's rows did (core/store/driver_sql.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine, event

from core.domain.entities import Hold, HoldStateChange, Transfer
from core.store import ledger_totals, records, usage_daily
from core.store.driver_sql import array_literal, execute_many
from core.store.tables import HOLDS, LEDGER_TOTALS, TRANSFERS
from tests.core.store.postgres import migrated_postgres

# Strings the array literal must carry unchanged: quotes, backslashes, the word NULL, braces,
# commas, blanks, an empty string, non-ASCII.
AWKWARD = ['say "hi"', "back\\slash", "NULL", "{a,b}", "x, y", "  padded  ", "", "é ✓ 雪", 'mix\\"ed']


@pytest.fixture
def engine() -> Iterator[Engine]:
    with migrated_postgres() as engine:
        yield engine


def _transfer(index: int, memo: str) -> Transfer:
    return Transfer(
        f"tr_{index}",
        "acct_1",
        index % 2 == 0,
        f"cus_{index % 3}:spend",
        "acct_1:live:revenue",
        7 + index,
        "post",
        f"req_{index}",
        1_800_000_000,
        1_800_000_000 + index,
        None if index % 2 else f"pt_{index}",
        None if index % 3 else f"h_{index}",
        memo,
    )


def _hold_row(index: int) -> dict[str, Any]:
    return {
        "id": f"h_{index}",
        "account_id": "acct_1",
        "livemode": True,
        "customer_id": None,
        "payer": "acct_1:live:customer:x",
        "revenue": "acct_1:live:revenue",
        "amount_nano": 100,
        "period_start": 1_800_000_000,
        "created": 1_800_000_000,
        "expires_at": 1_800_000_600,
        "provider": "openai",
        "model_ref": "fc:x",
        "price_json": '{"in": 1}',
        "markup_bp": 0,
        "kind": "call",
        "prepaid_nano": 0,
        "state": "pending",
        "resolved_at": None,
        "lease_calls": 0,
        "slots_released_unreported": 0,
        "output_tokens": 0,
        "lease_tokens": 0,
    }


def _statements(engine: Engine) -> list[tuple[str, bool]]:
    seen: list[tuple[str, bool]] = []

    def record(_c: Any, _cursor: Any, statement: str, _p: Any, _ctx: Any, executemany: bool) -> None:
        seen.append((" ".join(statement.split()[:3]), executemany))

    event.listen(engine, "before_cursor_execute", record)
    return seen


def test_a_commits_rows_go_as_one_statement_per_table(engine: Engine) -> None:
    transfers = [_transfer(index, "m") for index in range(50)]
    holds = [_hold_row(index) for index in range(20)]
    seen = _statements(engine)
    with engine.begin() as connection:
        execute_many(connection, records._STATEMENTS[Hold][0], holds)
        for statement, rows in records.grouped_statements(
            [*transfers, *(HoldStateChange(f"h_{index}", "settled", 5) for index in range(20))]
        ):
            execute_many(connection, statement, rows)
        ledger_totals.add(connection, transfers)
        usage_daily.add(connection, {("acct_1", True, 0, "", "fc:x", 0): [1, 2, 3, 4, 5]})
    # one execute (no executemany) per table: holds, transfers, the state changes, the two totals
    assert seen == [
        ("INSERT INTO holds", False),
        ("INSERT INTO transfers", False),
        ("SELECT current_setting('enable_hashjoin'), current_setting('enable_mergejoin'),", False),
        ("UPDATE holds SET", False),
        ("SELECT set_config('enable_hashjoin', %s,", False),
        ("INSERT INTO ledger_totals", False),
        ("INSERT INTO usage_daily", False),
    ]
    with engine.connect() as connection:
        states = connection.execute(sa.select(HOLDS.c.state, HOLDS.c.resolved_at)).all()
        assert sorted(states) == [("settled", 5)] * 20
        totals = connection.execute(sa.select(sa.func.sum(LEDGER_TOTALS.c.debit_nano))).scalar_one()
        assert totals == sum(t.amount_nano for t in transfers)


def test_rows_land_as_executemany_wrote_them(engine: Engine) -> None:
    transfers = [_transfer(index, memo) for index, memo in enumerate(AWKWARD)]
    with engine.begin() as connection:
        for statement, rows in records.grouped_statements(transfers):
            execute_many(connection, statement, rows)
    with engine.connect() as connection:
        stored = {row.id: row._asdict() for row in connection.execute(sa.select(TRANSFERS))}
    assert stored == {t.id: records.transfer_row(t) for t in transfers}


def test_one_hold_changed_twice_in_a_commit_keeps_the_last_change(engine: Engine) -> None:
    """An UPDATE … FROM unnest would apply one of the two changes, which one unsaid: executemany
    applies them in order."""
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


def test_array_literals() -> None:
    assert array_literal([1, None, -3]) == "{1,NULL,-3}"
    assert array_literal([True, None, False]) == "{t,NULL,f}"
    assert array_literal(["a", None, "NULL"]) == '{"a",NULL,"NULL"}'
    assert array_literal(['a"b', "c\\d"]) == '{"a\\"b","c\\\\d"}'
    assert array_literal([None, None]) == "{NULL,NULL}"
    assert array_literal([1, True]) == [1, True]  # mixed types: psycopg's own dumper
    assert array_literal([1.5, 2.5]) == [1.5, 2.5]


def test_a_commits_hold_changes_look_each_hold_up_by_its_key(engine: Engine) -> None:
    """The state changes' UPDATE … FROM unnest finds its holds through the primary key, not by
    scanning (and hashing) the whole table, which grows with every call ever made: at 5,000 holds
    the planner's own choice for 500 changes was the scan."""
    scans = "SELECT seq_scan, idx_scan FROM pg_stat_xact_user_tables WHERE relname = 'holds'"
    with engine.begin() as connection:
        execute_many(connection, records._STATEMENTS[Hold][0], [_hold_row(index) for index in range(5000)])
        connection.exec_driver_sql("ANALYZE holds")
    with engine.begin() as connection:
        # this session's counts not yet reported (earlier transactions' included): compare
        sequential_before, by_index_before = connection.exec_driver_sql(scans).one()
        changes = [HoldStateChange(f"h_{index}", "settled", 5) for index in range(0, 5000, 10)]
        for statement, rows in records.grouped_statements(changes):
            execute_many(connection, statement, rows)
        sequential, by_index = connection.exec_driver_sql(scans).one()
        hash_join = connection.exec_driver_sql("SHOW enable_hashjoin").scalar_one()
    assert (sequential - sequential_before, by_index - by_index_before) == (0, 500)
    assert hash_join == "on"  # the statement's planner settings do not outlive it
    with engine.connect() as connection:
        settled = connection.execute(sa.select(sa.func.count()).where(HOLDS.c.state == "settled")).scalar_one()
    assert settled == 500
