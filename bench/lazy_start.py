"""A core's start as its customers grow: the time and CPU until it serves, and until every
customer is loaded, for a lazy start (core/services/customer_load.py, what `serve` does) against a
start that loads every customer first (`open_core` without `lazy`, and the same on another
checkout, e.g. main), A/B in alternation on one database per scale.

    python -m bench.lazy_start [--backend sqlite|postgres] [--scales 1000:10000,100000:1000000]
                               [--rounds 3] [--other /work/main]

Each scale is `customers:calls`, a fresh database filled by `bench.history_load` (as
`bench.history_scale`). Each start is a fresh child process (nothing cached); its CPU is the
process's from before `open_core` (imports excluded) and in total (imports included). Prints a
Markdown table of the medians over the rounds.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from bench.databases import scratch_postgres
from bench.history_data import prepare
from bench.history_load import load_postgres, load_sqlite
from bench.history_scale import _scales
from bench.procs import REPO_ROOT
from core.server import open_core
from ringside_server.settings import Settings

_CHILD = """
import asyncio, inspect, json, resource, sys, time
from pathlib import Path
from core.server import open_core
from ringside_server.settings import Settings
def cpu():
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime
async def main():
    settings = Settings(data_dir=Path(sys.argv[1]), database_url=sys.argv[2], log_level="WARNING")
    lazy = sys.argv[3] == "lazy"
    started, cpu0 = time.perf_counter(), cpu()
    core = await (open_core(settings, lazy=True) if lazy else open_core(settings))
    serving, serving_cpu = time.perf_counter() - started, cpu()
    if lazy:
        await core.customer_load.done.wait()
    full, full_cpu = time.perf_counter() - started, cpu()
    rss_kb = int(next(l for l in open("/proc/self/status") if l.startswith("VmRSS")).split()[1])
    customers = len(core.state.customers)
    await core.writer.close(); core.engine.dispose()
    print(json.dumps({"serving_s": serving, "serving_cpu_s": serving_cpu - cpu0, "full_s": full,
                      "full_cpu_s": full_cpu - cpu0, "total_cpu_s": full_cpu, "rss_mb": rss_kb / 1024,
                      "customers": customers}))
asyncio.run(main())
"""


def _start(checkout: Path, data_dir: Path, url: str, mode: str) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(data_dir), url, mode],
        cwd=checkout,
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(checkout)},
    )
    if out.returncode:
        raise RuntimeError(f"the core did not start (exit {out.returncode}): {out.stderr[-2000:]}")
    return dict(json.loads(out.stdout.strip().splitlines()[-1]))


async def one_scale(
    backend: str, work: Path, customers_n: int, calls: int, rounds: int, other: Path | None
) -> dict[str, dict[str, float]]:
    async with AsyncExitStack() as stack:
        data_dir = work / f"{customers_n}-{calls}"
        data_dir.mkdir(parents=True, exist_ok=True)
        url = (
            await stack.enter_async_context(scratch_postgres("ringside_lazy_"))
            if backend == "postgres"
            else f"sqlite:///{(data_dir / 'ringside.db').resolve()}"
        )
        settings = Settings(data_dir=data_dir, database_url=url, log_level="WARNING")
        core = await open_core(settings)
        try:
            plan = await prepare(core, customers_n, calls)
        finally:
            await core.writer.close()
            core.engine.dispose()
        _ = load_postgres(url, plan) if backend == "postgres" else load_sqlite(url.removeprefix("sqlite:///"), plan)
        modes: list[tuple[str, Path, str]] = [("eager", REPO_ROOT, "eager"), ("lazy", REPO_ROOT, "lazy")]
        if other is not None:
            modes.insert(0, ("other (eager)", other, "eager"))
        runs: dict[str, list[dict[str, float]]] = {name: [] for name, _, _ in modes}
        try:
            for _round in range(rounds):  # alternated: each round starts every mode once
                for name, checkout, mode in modes:
                    runs[name].append(_start(checkout, data_dir, url, mode))
        finally:
            shutil.rmtree(data_dir, ignore_errors=True)
        return {
            name: {k: statistics.median(r[k] for r in results) for k in results[0]} for name, results in runs.items()
        }


def markdown(backend: str, table: list[tuple[int, int, dict[str, dict[str, float]]]], rounds: int) -> str:
    lines = [
        f"Core start on {backend} (median of {rounds} alternated starts; CPU from open_core on, imports excluded):",
        "",
        "| customers | calls | start | serving s (CPU s) | all customers loaded s (CPU s) | RSS MB |",
        "|---:|---:|---|---:|---:|---:|",
    ]
    for customers_n, calls, modes in table:
        for name, r in modes.items():
            lines.append(
                f"| {customers_n:,} | {calls:,} | {name} | {r['serving_s']:.2f} ({r['serving_cpu_s']:.2f}) "
                f"| {r['full_s']:.2f} ({r['full_cpu_s']:.2f}) | {r['rss_mb']:.0f} |"
            )
    if len(table) > 1:
        first, last = table[0][2], table[-1][2]
        lines += ["", f"Ratio {table[-1][0]:,} / {table[0][0]:,} customers:"]
        for name in first:
            for key in ("serving_s", "serving_cpu_s", "full_s", "full_cpu_s"):
                a, b = first[name][key], last[name][key]
                lines.append(f"- {name} {key}: {b / a if a else float('inf'):.1f}×")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.lazy_start", description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scales", type=_scales, default=_scales("1000:10000,100000:1000000"))
    parser.add_argument("--rounds", type=int, default=3, choices=range(1, 11))
    parser.add_argument("--other", type=Path, default=None, help="another checkout to start eagerly (e.g. main)")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    work = args.out / "tmp" / f"lazy-{args.backend}-{os.getpid()}"
    table = []
    try:
        for customers_n, calls in args.scales:
            table.append(
                (
                    customers_n,
                    calls,
                    asyncio.run(one_scale(args.backend, work, customers_n, calls, args.rounds, args.other)),
                )
            )
            print(markdown(args.backend, table[-1:], args.rounds), file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(markdown(args.backend, table, args.rounds))


if __name__ == "__main__":
    main()
