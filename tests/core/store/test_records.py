"""The group commit's tuple rows carry exactly what the row functions' dicts carry, and land."""

from __future__ import annotations

import dataclasses

import sqlalchemy as sa

from core.domain.entities import HoldStateChange, LeaseAdmission, Transfer, UsageRecord
from core.domain.requests import RequestLogEntry
from core.store import records
from core.store.driver_sql import TupleRows, execute_many
from core.store.record_rows import TRANSFER_KEYS, USAGE_KEYS, transfer_row, transfer_values, usage_row, usage_values
from core.store.tables import REQUEST_LOG, TRANSFERS, USAGE
from ringside_server.money import Usage


def _transfer() -> Transfer:
    return Transfer(
        "tr_1", "acct_1", True, "cus_1:spend", "acct_1:live:revenue", 7, "post", "req_1", 5, 6, "pt_1", "l_1", "m"
    )


def _usage() -> UsageRecord:
    tokens = Usage(1, 2, 3, 4, 5, 6, 7, 8)
    return UsageRecord(
        "req_1", "acct_1", True, "cus_1", "openai", "fc:x", "x", tokens, 9, 10, 11, 0, "completed", True, 5, 6, "l_1"
    )


def test_tuple_rows_are_the_dict_rows_in_column_order() -> None:
    transfer, usage = _transfer(), _usage()
    assert transfer_values(transfer) == tuple(transfer_row(transfer)[k] for k in TRANSFER_KEYS)
    assert usage_values(usage) == tuple(usage_row(usage)[k] for k in USAGE_KEYS)
    assert set(TRANSFER_KEYS) == set(transfer_row(transfer))
    assert set(USAGE_KEYS) == set(usage_row(usage))
    grouped = records.grouped_statements([usage, HoldStateChange("h_1", "settled", 6), transfer])
    assert [type(rows) for _, rows in grouped] == [TupleRows] * 3
    assert [len(rows) for _, rows in grouped] == [1, 1, 1]


def test_tuple_rows_land_as_dict_rows_do() -> None:
    engine = sa.create_engine("sqlite://")
    TRANSFERS.create(engine)
    USAGE.create(engine)
    transfer, usage = _transfer(), _usage()
    with engine.begin() as connection:
        for statement, rows in records.grouped_statements([transfer, usage]):
            execute_many(connection, statement, rows)
    with engine.connect() as connection:
        stored = connection.execute(sa.select(TRANSFERS)).one()._asdict()
        assert stored == {**transfer_row(transfer), "livemode": True}
        stored_usage = connection.execute(sa.select(USAGE)).one()._asdict()
        assert stored_usage == usage_row(usage)


def test_lease_admission_rows_are_their_dicts() -> None:
    admission = LeaseAdmission("req_1", "l_1", "fc:x", "openai", 5, 6)
    ((_, rows),) = records.grouped_statements([admission])
    assert isinstance(rows, TupleRows)
    assert dict(zip(rows.keys, rows[0], strict=True)) == dataclasses.asdict(admission)


def test_request_log_entries_go_as_tuples_and_land_as_their_dicts() -> None:
    # one entry per model call: as tuples, not dataclasses.asdict's deep copy each
    entries = [
        RequestLogEntry("req_1", "acct_1", True, "cus_1", "/v1/chat/completions", "m", "fc:x", 200, "", 12, 5, 5_001),
        RequestLogEntry("req_2", "acct_1", False, None, "/v1/embeddings", "e", "", 429, "rate", 0, 6, 6_000),
    ]
    ((_, rows),) = records.grouped_statements(entries)
    assert isinstance(rows, TupleRows)
    assert [dict(zip(rows.keys, row, strict=True)) for row in rows] == [dataclasses.asdict(e) for e in entries]
    engine = sa.create_engine("sqlite://")
    REQUEST_LOG.create(engine)
    with engine.begin() as connection:
        for statement, grouped in records.grouped_statements(entries):
            execute_many(connection, statement, grouped)
    with engine.connect() as connection:
        found = connection.execute(sa.select(REQUEST_LOG).order_by(REQUEST_LOG.c.request_id))
        stored = [row._asdict() for row in found]
    assert stored == [dataclasses.asdict(e) for e in entries]
