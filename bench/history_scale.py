"""What a read or a start costs as history grows: N customers and M calls generated in bulk.

    python -m bench.history_scale [--backend sqlite|postgres] [--scales 1000:10000,10000:100000]

Each scale is `customers:calls`. A fresh database is migrated and bootstrapped by a real core,
then filled directly (executemany, outside the core; the core is closed meanwhile) with what M
settled calls leave behind — for each a hold (settled), its pending transfer, its post, its cost
and its usage record — spread over the customers and over the last six billing periods. The first
100 customers have a wallet (topped up once, every call of theirs paid from it), the first 1,000 a
Stripe customer id, and Stripe sync settings exist. Then, with a core reopened on that database:

- start: seconds to open the core (migrations checked, the hot state loaded), in a child process,
  that process's CPU seconds by then (imports included) and its resident memory (RSS);
- a customer read (`customers.get`), a wallet page (the newest 10 transactions of the busiest
  wallet), a usage query of one customer-month (`get_usage`, group_by=day), median of 5;
- a Stripe sync run's core side: `stripe_sync.plan` over every synced customer, in batches, as the
  worker asks for them — what it reads from the ledger per customer; the pushes to Stripe are
  per-customer HTTP calls that do not grow with history. Timed on the second run: the first also
  writes every customer's sync cursor.

Prints a Markdown table and writes bench/results/<date>-history-<backend>.{json,md}.
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
from collections.abc import Awaitable, Callable, Iterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import asdict, dataclass
from pathlib import Path

from sqlalchemy import Engine, insert

from bench.databases import scratch_postgres
from bench.machine import machine, source
from bench.procs import REPO_ROOT
from core.domain import ledger
from core.domain.billing import StripeSettings
from core.domain.entities import Customer, Hold, Transfer, UsageRecord
from core.domain.periods import period_bounds
from core.server import open_core
from core.services import accounts, customers, stripe_sync, usage, wallets
from core.services.core import Core, Principal
from core.store.driver_sql import execute_many
from core.store.records import customer_row, grouped_statements, transfer_row
from core.store.tables import CUSTOMERS, TRANSFERS
from ringside_server.ids import new_id, new_sortable_id
from ringside_server.money import Price, Usage
from ringside_server.settings import Settings

PRICE = Price(input=150_000_000, output=600_000_000)
USAGE = Usage(input_tokens=12, output_tokens=16)
COST_NANO = 12 * 150 + 16 * 600  # nano-USD of USAGE at PRICE
WALLETS = 100
STRIPE_CUSTOMERS = 1_000
PERIODS = 6
CHUNK = 20_000  # calls per generated transaction
REPEATS = 5


@dataclass(frozen=True)
class ScaleResult:
    customers: int
    calls: int
    generate_s: float
    start_s: float
    start_cpu_s: float
    start_rss_mb: float
    customer_read_ms: float
    wallet_page_ms: float
    usage_month_ms: float
    stripe_plan_s: float
    stripe_customers: int


def _settings(data_dir: Path, url: str) -> Settings:
    return Settings(data_dir=data_dir, database_url=url, log_level="WARNING")


def _periods(now: int) -> list[int]:
    """The starts of the current period and the five before it (anchor day 1)."""
    starts = [period_bounds(now)[0]]
    while len(starts) < PERIODS:
        starts.append(period_bounds(starts[-1] - 1)[0])
    return starts


def _calls(account_id: str, ids: list[str], calls: int, now: int) -> Iterator[list[object]]:
    """The records of `calls` settled calls, CHUNK at a time, round-robin over the customers."""
    periods = _periods(now)
    revenue = ledger.revenue(account_id, True)
    cost_debit, cost_credit = (
        ledger.provider_cost(account_id, True),
        ledger.provider_payable(account_id, True, "openai"),
    )
    records: list[object] = []
    for n in range(calls):
        customer_id = ids[n % len(ids)]
        period = periods[(n // len(ids)) % PERIODS]
        created = period + 3600 + n % 86_400
        payer = ledger.customer_wallet(customer_id) if n % len(ids) < WALLETS else ledger.customer_spend(customer_id)
        hold_id = new_sortable_id("req")
        billable = COST_NANO
        hold = Hold(
            hold_id,
            account_id,
            True,
            customer_id,
            payer,
            revenue,
            10_000,
            period,
            created,
            created + 600,
            "openai",
            "fc:openai/gpt-4o-mini",
            PRICE,
            0,
        )
        records += [
            hold,
            Transfer(
                ledger.pending_transfer_id(hold_id),
                account_id,
                True,
                payer,
                revenue,
                10_000,
                "pending",
                hold_id,
                period,
                created,
            ),
            Transfer(
                new_sortable_id("tr"),
                account_id,
                True,
                payer,
                revenue,
                billable,
                "post",
                hold_id,
                period,
                created,
                pending_id=ledger.pending_transfer_id(hold_id),
            ),
            Transfer(
                new_sortable_id("tr"),
                account_id,
                True,
                cost_debit,
                cost_credit,
                COST_NANO,
                "cost",
                hold_id,
                period,
                created,
            ),
            UsageRecord(
                hold_id,
                account_id,
                True,
                customer_id,
                "openai",
                "fc:openai/gpt-4o-mini",
                "gpt-4o-mini",
                USAGE,
                COST_NANO,
                billable,
                billable,
                0,
                "completed",
                False,
                period,
                created,
            ),
        ]
        if len(records) >= CHUNK * 5:
            yield records
            records = []
    if records:
        yield records


def _write(engine: Engine, records: list[object]) -> None:
    with engine.begin() as connection:
        for statement, rows in grouped_statements(records):
            execute_many(connection, statement, rows)


def _settled(engine: Engine) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE holds SET state = 'settled', resolved_at = created")


async def generate(core: Core, customers_n: int, calls: int) -> str:
    """Fill the database; → a wallet customer's id (every customer has about calls/customers calls)."""
    new = await accounts.bootstrap(core)
    if new is None:
        raise RuntimeError("history_scale needs an empty database")
    account_id, now = new.account.id, core.now()
    ids = [new_id("cus") for _ in range(customers_n)]
    engine = core.engine
    rows = [
        customer_row(
            Customer(
                id=customer_id,
                account_id=account_id,
                livemode=True,
                external_id=f"ext-{n}",
                name="",
                email="",
                metadata={},
                budget_nano=None,
                budget_explicit=False,
                rate_limit_rpm=None,
                rate_limit_tpm=None,
                blocked=False,
                billing_anchor_day=1,
                wallet_low_threshold_nano=0,
                created=now - 200 * 86_400,
                wallet_enabled=n < WALLETS,
                stripe_customer_id=f"cus_stripe{n}" if n < STRIPE_CUSTOMERS else "",
            )
        )
        for n, customer_id in enumerate(ids)
    ]
    top_ups = [
        Transfer(
            new_sortable_id("tr"),
            account_id,
            True,
            ledger.wallet_funding(account_id, True),
            ledger.customer_wallet(customer_id),
            10**15,
            "topup",
            new_id("req"),
            period_bounds(now)[0],
            now - 199 * 86_400,
        )
        for customer_id in ids[:WALLETS]
    ]
    with engine.begin() as connection:
        for start in range(0, len(rows), CHUNK):
            execute_many(connection, insert(CUSTOMERS), rows[start : start + CHUNK])
        if top_ups:
            execute_many(connection, insert(TRANSFERS), [transfer_row(t) for t in top_ups])
    for records in _calls(account_id, ids, calls, now):
        _write(engine, records)
    _settled(engine)
    await core.writer.write(
        [StripeSettings(account_id, True, "sk_live_bench0000", "ringside_usage", "billable_cents", now)]
    )
    return ids[0]


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
        check=True,
        env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    return float(result["start_s"]), float(result["cpu_s"]), float(result["rss_mb"])


async def _median_ms(operation: Callable[[], Awaitable[object]]) -> float:
    times = []
    for _ in range(REPEATS):
        started = time.perf_counter()
        await operation()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


async def _stripe_plan(core: Core) -> tuple[float, int]:
    """Plan a whole sync run (every synced customer, batch by batch) → (seconds, customers)."""
    started, after, planned, more = time.perf_counter(), "", 0, True
    run_id = "bench-" + new_id("run")[4:20]
    while more:
        before = after
        _, after, more = await stripe_sync.plan(core, run_id, after, stripe_sync.MAX_BATCH)
        planned += sum(1 for c in core.state.customers.values() if c.stripe_customer_id and before < c.id <= after)
    return time.perf_counter() - started, planned


async def one_scale(backend: str, work: Path, customers_n: int, calls: int) -> ScaleResult:
    async with AsyncExitStack() as stack:
        data_dir = work / f"{customers_n}-{calls}"
        data_dir.mkdir(parents=True, exist_ok=True)
        url = (
            await stack.enter_async_context(scratch_postgres("ringside_history_"))
            if backend == "postgres"
            else f"sqlite:///{(data_dir / 'ringside.db').resolve()}"
        )
        started = time.perf_counter()
        core = await open_core(_settings(data_dir, url))
        try:
            wallet_customer = await generate(core, customers_n, calls)
        finally:
            await core.writer.close()
            core.engine.dispose()
        generate_s = time.perf_counter() - started
        start_s, start_cpu_s, rss_mb = _start_in_child(data_dir, url)
        core = await open_core(_settings(data_dir, url))
        try:
            account_id = next(iter(core.state.accounts))
            principal = Principal(account_id=account_id, livemode=True, scopes=frozenset({"api:read", "api:write"}))
            since = _periods(core.now())[1]
            until = _periods(core.now())[0]
            read_ms = await _median_ms(lambda: asyncio.sleep(0, customers.get(core, principal, wallet_customer)))
            wallet_ms = await _median_ms(lambda: wallets.wallet(core, principal, wallet_customer, 10, "", ""))
            usage_ms = await _median_ms(
                lambda: usage.get_usage(core, principal, wallet_customer, since, until, "day", 31, "")
            )
            await _stripe_plan(core)  # the first run also writes every customer's cursor: time the next
            stripe_s, stripe_n = await _stripe_plan(core)
        finally:
            await core.writer.close()
            core.engine.dispose()
        return ScaleResult(
            customers_n,
            calls,
            generate_s,
            start_s,
            start_cpu_s,
            rss_mb,
            read_ms,
            wallet_ms,
            usage_ms,
            stripe_s,
            stripe_n,
        )


def markdown(backend: str, results: Sequence[ScaleResult]) -> str:
    lines = [
        f"History scale on {backend} (each row a fresh database; reads: median of {REPEATS}):",
        "",
        "| customers | calls | generate s | core start s (CPU s) | core RSS MB | customer read ms | wallet page ms "
        "| usage month ms | Stripe sync plan s (customers) |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.customers:,} | {r.calls:,} | {r.generate_s:.1f} | {r.start_s:.2f} ({r.start_cpu_s:.2f}) "
            f"| {r.start_rss_mb:.0f} "
            f"| {r.customer_read_ms:.3f} | {r.wallet_page_ms:.1f} | {r.usage_month_ms:.1f} "
            f"| {r.stripe_plan_s:.2f} ({r.stripe_customers:,}) |"
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
            "stripe_plan_s",
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
    args = parser.parse_args(argv)
    work = args.out / "tmp" / f"history-{args.backend}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    results: list[ScaleResult] = []
    try:
        for customers_n, calls in args.scales:
            results.append(asyncio.run(one_scale(args.backend, work, customers_n, calls)))
            print(markdown(args.backend, results[-1:]).splitlines()[-1], file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    text = markdown(args.backend, results)
    date = datetime.date.today().isoformat()
    path = args.out / f"{date}-history-{args.backend}.json"
    args.out.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps({"results": [asdict(r) for r in results], "machine": machine(), "source": source()}, indent=2)
    )
    path.with_suffix(".md").write_text(text + "\n")
    print(text)


if __name__ == "__main__":
    main()
