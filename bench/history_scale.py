"""What a read or a start costs as history grows: N customers and M calls generated in bulk.

    python -m bench.history_scale [--backend sqlite|postgres] [--scales 1000:10000,10000:100000]

Each scale is `customers:calls`: a fresh database filled by `bench.history_load` (N customers, M
settled calls over six billing periods, the ledger totals and daily usage sums they add to; rows as
`bench.history_data` describes them; COPY on PostgreSQL, unjournaled batches on SQLite, secondary
indexes built after the load). Then, with a core reopened on that database:

- start: seconds to open the core (migrations checked, the hot state loaded), in a child process,
  that process's CPU seconds by then (imports included) and its resident memory (RSS);
- a customer read (`customers.get`), a wallet page (the newest 10 transactions of the busiest
  wallet), a usage query of one customer-month (`get_usage`, group_by=day), median of 5;
- a Stripe sync run's core side: `stripe_sync.plan` over every synced customer, in batches, as the
  worker asks for them — what it reads from the ledger per customer; the pushes to Stripe are
  per-customer HTTP calls that do not grow with history. Timed on the second run: the first also
  writes every customer's sync cursor.

Prints a Markdown table and writes bench/results/<date>-history-<backend>[-<label>].{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from bench.databases import scratch_postgres
from bench.history_data import database_bytes, periods, prepare
from bench.history_load import load_postgres, load_sqlite, postgres_bytes
from bench.machine import machine, source
from bench.procs import REPO_ROOT
from core.server import open_core
from core.services import customers, stripe_sync, usage, wallets
from core.services.core import Core, Principal
from ringside_server.ids import new_id
from ringside_server.settings import Settings

REPEATS = 5


@dataclass(frozen=True)
class ScaleResult:
    customers: int
    calls: int
    generate_s: float
    generate_cpu_s: float  # the loader's process (rows built, driver), not the database server's
    rows_written: int
    database_mb: float
    start_s: float
    start_cpu_s: float
    start_rss_mb: float
    customer_read_ms: float
    wallet_page_ms: float
    usage_month_ms: float
    wallet_page_cpu_ms: float
    usage_month_cpu_ms: float
    stripe_plan_s: float
    stripe_plan_cpu_s: float
    stripe_customers: int


def _settings(data_dir: Path, url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, log_level="WARNING")


_CHILD = """
import asyncio, json, resource, sys, time
from pathlib import Path
from core.server import open_core
from ringside_server.settings import Settings
async def main():
    settings = Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2], log_level="WARNING")
    started = time.perf_counter()
    core = await open_core(settings)
    elapsed = time.perf_counter() - started
    rss_kb = int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
    usage = resource.getrusage(resource.RUSAGE_SELF)
    await core.writer.close(); core.engine.dispose()
    print(json.dumps({"start_s": elapsed, "cpu_s": usage.ru_utime + usage.ru_stime, "rss_mb": rss_kb / 1024}))
asyncio.run(main())
"""


def _start_in_child(data_dir: Path, url: str) -> tuple[float, float, float]:
    """Open a core in a fresh process (nothing cached); → (seconds to open it, the process's CPU
    seconds by then, imports included, its RSS in MB)."""
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data_dir), url],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    if out.returncode:  # e.g. a schema the checkout's migrations moved past while the run went on
        raise RuntimeError(f"the core did not start (exit {out.returncode}): {out.stderr[-2000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["start_s"]), float(result["cpu_s"]), float(result["rss_mb"])


async def _median_ms(operation: Callable[[], Awaitable[object]]) -> tuple[float, float]:
    """→ (median wall ms, median CPU ms of this process): on a loaded machine the wall time is
    mostly waiting for a core; the CPU time is what the read itself costs."""
    times, cpu = [], []
    for _ in range(REPEATS):
        started, cpu_started = time.perf_counter(), time.process_time()
        await operation()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - cpu_started) * 1000)
    return statistics.median(times), statistics.median(cpu)


async def _stripe_plan(core: Core) -> tuple[float, float, int]:
    """Plan a whole sync run (every synced customer, batch by batch) → (seconds, CPU s, customers).
    The customers planned are counted after the clock stops: counting them scans every customer
    per batch, as much as the plan's own scan (it was inside the timed run before 2026-12-04)."""
    started, cpu_started, after, more = time.perf_counter(), time.process_time(), "", True
    run_id = "bench-" + new_id("run")[4:20]
    batches: list[tuple[str, str]] = []
    while more:
        before = after
        _, after, more = await stripe_sync.plan(core, run_id, after, stripe_sync.MAX_BATCH)
        batches.append((before, after))
    seconds, cpu_s = time.perf_counter() - started, time.process_time() - cpu_started
    synced = [c.id for c in core.state.customers.values() if c.stripe_customer_id]
    planned = sum(1 for before, after in batches for c in synced if before < c <= after)
    return seconds, cpu_s, planned


async def one_scale(backend: str, work: Path, customers_n: int, calls: int) -> ScaleResult:
    async with AsyncExitStack() as stack:
        data_dir = work / f"{customers_n}-{calls}"
        data_dir.mkdir(parents=True, exist_ok=True)
        url = (
            await stack.enter_async_context(scratch_postgres("ringside_history_"))
            if backend == "postgres"
            else f"sqlite:///{(data_dir / 'ringside.db').resolve()}"
        )
        core = await open_core(_settings(data_dir, url))
        try:
            plan = await prepare(core, customers_n, calls)
        finally:
            await core.writer.close()
            core.engine.dispose()
        wallet_customer = plan.customer_ids[0]  # every customer has about calls/customers calls
        loaded = (
            load_postgres(url, plan) if backend == "postgres" else load_sqlite(url.removeprefix("sqlite:///"), plan)
        )
        database_mb = (postgres_bytes(url) if backend == "postgres" else database_bytes(url)) / 2**20
        print(
            f"loaded {customers_n:,}/{calls:,}: {loaded.rows:,} rows in {loaded.seconds:.0f} s "
            f"({loaded.rows / loaded.seconds:,.0f} rows/s, {loaded.cpu_s:.0f} s CPU), {database_mb:,.0f} MB",
            file=sys.stderr,
        )
        start_s, start_cpu_s, rss_mb = _start_in_child(data_dir, url)
        core = await open_core(_settings(data_dir, url))
        try:
            account_id = next(iter(core.state.accounts))
            principal = Principal(account_id=account_id, livemode=True, scopes=frozenset({"api:read", "api:write"}))
            since = periods(core.now())[1]
            until = periods(core.now())[0]
            read_ms, _ = await _median_ms(lambda: asyncio.sleep(0, customers.get(core, principal, wallet_customer)))
            wallet_ms, wallet_cpu_ms = await _median_ms(
                lambda: wallets.wallet(core, principal, wallet_customer, 10, "", "")
            )
            usage_ms, usage_cpu_ms = await _median_ms(
                lambda: usage.get_usage(core, principal, wallet_customer, since, until, "day", 31, "")
            )
            await _stripe_plan(core)  # the first run also writes every customer's cursor: time the next
            # ones, median of REPEATS (a run is ~20 ms: one run moved ~1.5× between runs of a scale)
            plans = [await _stripe_plan(core) for _ in range(REPEATS)]
            stripe_s = statistics.median(p[0] for p in plans)
            stripe_cpu_s = statistics.median(p[1] for p in plans)
            stripe_n = plans[-1][2]
        finally:
            await core.writer.close()
            core.engine.dispose()
            shutil.rmtree(data_dir, ignore_errors=True)  # 10M calls are ~GBs: keep only the results
        return ScaleResult(
            customers_n,
            calls,
            loaded.seconds,
            loaded.cpu_s,
            loaded.rows,
            database_mb,
            start_s,
            start_cpu_s,
            rss_mb,
            read_ms,
            wallet_ms,
            usage_ms,
            wallet_cpu_ms,
            usage_cpu_ms,
            stripe_s,
            stripe_cpu_s,
            stripe_n,
        )


def markdown(backend: str, results: Sequence[ScaleResult]) -> str:
    lines = [
        f"History scale on {backend} (each row a fresh database; reads and Stripe plan: median of {REPEATS}):",
        "",
        "| customers | calls | generate s (CPU s; rows/s) | DB MB | core start s (CPU s) | core RSS MB "
        "| customer read ms | wallet page ms (CPU) | usage month ms (CPU) | Stripe sync plan s (CPU s; customers) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.customers:,} | {r.calls:,} "
            f"| {r.generate_s:.1f} ({r.generate_cpu_s:.1f}; {r.rows_written / r.generate_s:,.0f}) "
            f"| {r.database_mb:,.0f} | {r.start_s:.2f} ({r.start_cpu_s:.2f}) "
            f"| {r.start_rss_mb:.0f} "
            f"| {r.customer_read_ms:.3f} | {r.wallet_page_ms:.1f} ({r.wallet_page_cpu_ms:.1f}) "
            f"| {r.usage_month_ms:.1f} ({r.usage_month_cpu_ms:.1f}) "
            f"| {r.stripe_plan_s:.2f} ({r.stripe_plan_cpu_s:.2f}; {r.stripe_customers:,}) |"
        )
    if len(results) > 1:
        first, last = results[0], results[-1]
        lines += [
            "",
            f"Ratio largest / smallest ({last.customers:,}/{last.calls:,} vs {first.customers:,}/{first.calls:,}):",
        ]
        for name in (
            "start_s",
            "start_cpu_s",
            "start_rss_mb",
            "customer_read_ms",
            "wallet_page_ms",
            "usage_month_ms",
            "wallet_page_cpu_ms",
            "usage_month_cpu_ms",
            "stripe_plan_s",
            "stripe_plan_cpu_s",
        ):
            a, b = getattr(first, name), getattr(last, name)
            lines.append(f"- {name}: {b / a if a else float('inf'):.1f}× (target ≤ 2×)")
    return "\n".join(lines)


def _scales(text: str) -> list[tuple[int, int]]:
    scales = []
    for part in text.split(","):
        customers_text, _, calls_text = part.partition(":")
        customers_n, calls = int(customers_text), int(calls_text)
        if not 1 <= customers_n <= 1_000_000 or not 1 <= calls <= 20_000_000:
            raise argparse.ArgumentTypeError("customers 1..1,000,000 and calls 1..20,000,000")
        scales.append((customers_n, calls))
    return scales


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.history_scale", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scales", type=_scales, default=_scales("1000:10000,10000:100000"))
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    parser.add_argument("--label", default="", help="added to the result files' names")
    args = parser.parse_args(argv)
    work = args.out / "tmp" / f"history-{args.backend}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    results: list[ScaleResult] = []
    text = ""
    date = datetime.date.today().isoformat()
    label = f"-{args.label}" if args.label else ""
    path = args.out / f"{date}-history-{args.backend}{label}.json"
    args.out.mkdir(parents=True, exist_ok=True)
    try:
        for customers_n, calls in args.scales:
            results.append(asyncio.run(one_scale(args.backend, work, customers_n, calls)))
            print(markdown(args.backend, results[-1:]).splitlines()[-1], file=sys.stderr)
            text = markdown(args.backend, results)  # after each scale: a long run stopped keeps the rest
            path.write_text(
                json.dumps(
                    {"results": [asdict(r) for r in results], "machine": machine(), "source": source()}, indent=2
                )
            )
            path.with_suffix(".md").write_text(text + "\n")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(text)


if __name__ == "__main__":
    main()
