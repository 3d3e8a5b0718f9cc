"""The fast history loader writes what the group commit writes: compared row for row with the
reference writer (the core's entities, row functions and aggregate updates), and audited by the
core itself. A small plan (a few seconds); speed is the benchmark's business, never asserted."""

from __future__ import annotations

import dataclasses
import json
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from bench import history_load
from bench.databases import scratch_postgres
from bench.history_data import COST_NANO, WALLETS, Plan, periods, prepare, reference
from core.server import open_core
from core.services import system
from core.services.core import Core
from core.store import ledger_totals
from ringside_server.settings import Settings

TABLES = {
    "customers": "id",
    "holds": "id",
    "transfers": "id",
    "usage_records": "request_id",
    "ledger_totals": "ledger_account, period_start, kind",
    "usage_daily": "account_id, livemode, day, customer_id, model_ref, period_start",
}
CUSTOMERS, CALLS = 130, 1_000  # some wallet payers (the first 100), some spend; every period twice


def _dump(engine: Engine, account_id: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the written tables, ordered, the account's id replaced (each database bootstrapped
    its own account), booleans as the driver reads them."""

    def plain(value: Any) -> Any:
        return value.replace(account_id, "ACCOUNT") if isinstance(value, str) else value

    with engine.connect() as connection:
        return {
            table: [
                tuple(plain(v) for v in row)
                for row in connection.exec_driver_sql(f"SELECT * FROM {table} ORDER BY {order}")
            ]
            for table, order in TABLES.items()
        }


async def _fresh(stack: AsyncExitStack, backend: str, data_dir: Path) -> tuple[Settings, Core, Plan]:
    url = (
        await stack.enter_async_context(scratch_postgres("ringside_history_test_"))
        if backend == "postgres"
        else f"sqlite:///{data_dir / 'ringside.db'}"
    )
    settings = Settings(data_dir=data_dir, database_url=url, log_level="WARNING")
    core = await open_core(settings)
    plan = await prepare(core, CUSTOMERS, CALLS)
    await core.writer.close()
    core.engine.dispose()  # its connections closed: the loader needs the file (SQLite) to itself
    return settings, core, plan


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
async def test_the_fast_loader_writes_the_group_commits_rows_and_totals(
    tmp_path: Path, backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_load, "LOAD_CHUNK", 300)  # several transactions, the last one short
    (tmp_path / "reference").mkdir()
    (tmp_path / "fast").mkdir()
    async with AsyncExitStack() as stack:
        _, slow_core, slow_plan = await _fresh(stack, backend, tmp_path / "reference")
        settings, fast_core, fast_plan = await _fresh(stack, backend, tmp_path / "fast")
        # the same calls, customers, ids and clock; each database keeps its own account
        fast_plan = dataclasses.replace(slow_plan, account_id=fast_plan.account_id)
        reference(slow_core.engine, slow_plan)
        url = settings.database_url
        loaded = (
            history_load.load_postgres(url, fast_plan)
            if backend == "postgres"
            else history_load.load_sqlite(url.removeprefix("sqlite:///"), fast_plan)
        )

        slow, fast = _dump(slow_core.engine, slow_plan.account_id), _dump(fast_core.engine, fast_plan.account_id)
        slow_core.engine.dispose()
        fast_core.engine.dispose()
        assert len(fast["holds"]) == CALLS and len(fast["transfers"]) == 3 * CALLS + WALLETS
        assert len(fast["usage_daily"]) > CUSTOMERS  # several days and periods per customer
        for table in TABLES:
            assert fast[table] == slow[table], table
        assert loaded.rows == sum(len(rows) for rows in fast.values())

        core = await open_core(settings)  # the real core starts on it, and its own audit is clean
        try:
            audit = await system.verify_ledger(core)
            assert audit.ok, audit
            assert audit.transfer_count == 3 * CALLS + WALLETS
            with core.engine.connect() as connection:
                assert ledger_totals.mismatches(connection) == []
            current = periods(fast_plan.now)[0]
            this_period = sum(1 for n in range(CALLS) if fast_plan.call(n)[1] == current)
            assert sum(c.spent_nano for c in core.state.customers.values()) == COST_NANO * this_period > 0
        finally:
            await core.writer.close()
            core.engine.dispose()


def test_the_history_plot_draws_each_backends_curve(tmp_path: Path) -> None:
    from bench.history_plot import CURVES, write_plot

    files = []
    for backend in ("sqlite", "postgres"):
        results = [
            {"customers": customers, "calls": calls, **{field: float(n + 1) for field, _ in CURVES}}
            for n, (customers, calls) in enumerate(((1_000, 10_000), (10_000, 100_000)))
        ]
        files.append(tmp_path / f"2026-12-03-history-{backend}.json")
        files[-1].write_text(json.dumps({"results": results}))

    written = write_plot(files, tmp_path / "curve.png")

    assert written.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
