"""The transfers' partial indexes (migration 0033) still serve their readers: a wallet's page and the
balance after it (core/store/wallet_history.py) through (debit, id) / (credit, id), which hold only
wallets' transfers, and a lease's posts at the start (core/store/loader.py) through hold_id, which
holds only leases'. Each statement the readers run is captured and explained on SQLite and
PostgreSQL (sequential scans off there: a near-empty table would be scanned whatever the indexes)."""

from __future__ import annotations

import pathlib
import time
from typing import Any

from sqlalchemy import Connection, Engine, event

from core.server import open_core
from core.services import accounts, customers, wallets
from core.services.core import Principal
from core.store import wallet_history
from core.store.loader import load_state
from tests.core.store.conftest import core_settings


def _captured(engine: Engine, read: Any) -> list[tuple[str, Any]]:
    statements: list[tuple[str, Any]] = []

    def seen(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, many: bool) -> None:
        if "transfers" in statement:
            statements.append((statement, parameters))

    event.listen(engine, "before_cursor_execute", seen)
    try:
        read()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    return statements


def _plan(connection: Connection, statement: str, parameters: Any) -> str:
    if connection.dialect.name == "sqlite":
        rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).all()
        return "\n".join(str(row[-1]) for row in rows)
    connection.exec_driver_sql("SET enable_seqscan = off")
    return "\n".join(str(row[0]) for row in connection.exec_driver_sql("EXPLAIN " + statement, parameters))


async def test_wallet_pages_and_lease_posts_read_through_the_partial_indexes(
    database: str, tmp_path: pathlib.Path
) -> None:
    core = await open_core(core_settings(tmp_path, database))
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        principal = Principal(account_id=new.account.id, livemode=True, scopes=frozenset({"api:write", "api:read"}))
        customer, _ = await customers.create(core, principal, customers.CustomerInput())
        for amount in (5_000, 7_000, -1_000):
            if amount > 0:
                await wallets.top_up(core, principal, customer.id, amount, "in")
            else:
                await wallets.adjust(core, principal, customer.id, amount, "out")
        account = f"{customer.id}:wallet"
        engine = core.engine

        def read_pages() -> None:
            with engine.connect() as connection:
                newest = wallet_history.rows(connection, account, 2)
                wallet_history.rows(connection, account, 2, after=newest[-1].transfer_id)
                wallet_history.rows(connection, account, 2, before=newest[-1].transfer_id)
                wallet_history.balance_through(connection, account, newest[-1].transfer_id)

        wallet_reads = _captured(engine, read_pages)
        start_reads = [
            (statement, parameters)
            for statement, parameters in _captured(engine, lambda: load_state(engine, int(time.time())))
            if "hold_id" in statement
        ]
        assert len(wallet_reads) == 7  # three pages of two sides, one balance
        assert start_reads
        with engine.connect() as connection:
            for statement, parameters in wallet_reads:
                plan = _plan(connection, statement, parameters)
                assert "ix_transfers_debit_id" in plan or "ix_transfers_credit_id" in plan, (statement, plan)
            balance_plan = _plan(connection, *wallet_reads[-1])
            assert "ix_transfers_debit_id" in balance_plan and "ix_transfers_credit_id" in balance_plan
            for statement, parameters in start_reads:
                plan = _plan(connection, statement, parameters)
                assert "ix_transfers_hold_id" in plan, (statement, plan)
    finally:
        await core.writer.close()
        core.engine.dispose()
