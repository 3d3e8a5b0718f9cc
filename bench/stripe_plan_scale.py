"""A whole Stripe sync plan when every customer is synced: what `bench.history_scale` does not show
(its data syncs 1,000 customers, two batches, whatever the number of customers).

    python -m bench.stripe_plan_scale [--customers 1000,20000,100000]

Per count, a fresh SQLite database: one account with Stripe settings (through the core's services)
and that many customers, each with a Stripe id and no usage, inserted by SQL; then a core opened on
it (every customer loaded in memory, as a core serving them has) plans whole runs, batch by batch
as the worker asks. Prints the median wall and CPU (this process) of five runs after a first one,
and the CPU per customer: it stays flat when a run is O(synced customers).
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from core.domain.entities import SCOPES
from core.server import open_core
from core.services import accounts, stripe_sync
from core.services.core import Core, Principal
from ringside_server.settings import Settings

RUNS = 5
# Every customer synced, no usage: the plan reads each one's cursor and ledger totals, writes nothing.
CUSTOMER_ROWS = (
    "INSERT INTO customers (id, account_id, livemode, name, email, metadata_json, budget_explicit, blocked, "
    "billing_anchor_day, wallet_enabled, wallet_low_threshold_nano, stripe_customer_id, tier_id, created, "
    "tokens_revoked_before_ms, erasure_status) "
    "WITH RECURSIVE series(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM series WHERE n < {count}) "
    "SELECT 'cus_' || printf('%08d', n), '{account}', 1, '', '', '{{}}', 0, 0, 1, 0, 0, 'cus_s' || n, '', 0, 0, '' "
    "FROM series"
)


async def _prepared(directory: Path, count: int) -> Settings:
    settings = Settings(data_dir=directory, database_url=f"sqlite:///{directory}/plan.db", log_level="WARNING")
    core = await open_core(settings)
    try:
        new = await accounts.bootstrap(core)
        assert new is not None
        live = Principal(account_id=new.account.id, livemode=True, scopes=frozenset(SCOPES))
        await stripe_sync.put_settings(core, live, "sk_live_planscale00", "ringside_usage", "")
    finally:
        await core.writer.close()
    with core.engine.begin() as connection:
        connection.exec_driver_sql(CUSTOMER_ROWS.format(count=count, account=new.account.id))
    core.engine.dispose()
    return settings


async def _plan_run(core: Core) -> tuple[float, float]:
    """One whole run → (wall s, CPU s)."""
    started, cpu_started, after, more = time.perf_counter(), time.process_time(), "", True
    run_id = f"bench-{time.time_ns()}"
    while more:
        _, after, more = await stripe_sync.plan(core, run_id, after, stripe_sync.MAX_BATCH)
    return time.perf_counter() - started, time.process_time() - cpu_started


async def one_count(count: int) -> str:
    directory = Path(tempfile.mkdtemp(prefix="ringside-plan-"))
    try:
        core = await open_core(await _prepared(directory, count))
        try:
            await _plan_run(core)
            runs = [await _plan_run(core) for _ in range(RUNS)]
        finally:
            await core.writer.close()
            core.engine.dispose()
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    wall_s = statistics.median(wall for wall, _ in runs)
    cpu_s = statistics.median(cpu for _, cpu in runs)
    return f"| {count:,} | {wall_s * 1000:,.1f} | {cpu_s * 1000:,.1f} | {cpu_s / count * 1e6:.1f} |"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.stripe_plan_scale", description=__doc__)
    parser.add_argument("--customers", default="1000,20000,100000", help="comma-separated counts (≤ 1,000,000)")
    args = parser.parse_args(argv)
    counts = [int(part) for part in args.customers.split(",")]
    if not all(1 <= count <= 1_000_000 for count in counts):
        raise SystemExit("each count must be 1..1,000,000")
    print(f"| synced customers | plan run wall ms | CPU ms | CPU µs a customer |  (median of {RUNS})")
    print("|---:|---:|---:|---:|")
    for count in counts:
        print(asyncio.run(one_count(count)), flush=True)


if __name__ == "__main__":
    main()
