"""CLI: ``python -m bench.core_micro [--backend sqlite|postgres] [--seconds N]``.

Prints Markdown tables and writes ``<out>/<date>-core-<backend>.json``. SQLite files live in a scratch
directory under ``<out>/tmp`` (on disk: a tmpfs would make fsync free); PostgreSQL gets a fresh database
per part on the machine's server, dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import shutil
import sys
from collections.abc import Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from bench.core_micro.in_process import PhaseResult, in_process
from bench.core_micro.over_grpc import PairsResult, over_grpc
from bench.databases import scratch_postgres
from bench.loadgen import Percentiles
from bench.machine import machine, source
from bench.procs import REPO_ROOT, stoppable

SETTLES_TARGET_PER_S = 20_000


@dataclass(frozen=True)
class CoreMicroReport:
    """One backend's results; written as JSON."""

    date: str
    backend: str
    seconds: float
    writers: int
    in_process: list[PhaseResult]
    over_grpc: list[PairsResult]
    machine: dict[str, Any] = field(default_factory=dict)
    source: dict[str, Any] = field(default_factory=dict)


def _directory(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


async def _database(stack: AsyncExitStack, backend: str) -> str | None:
    """A fresh database: a PostgreSQL one for the block, or None (the core's own SQLite file)."""
    if backend == "postgres":
        return await stack.enter_async_context(scratch_postgres("ringside_core_micro_"))
    return None


async def run(
    backend: str, seconds: float, writers: int, concurrencies: tuple[int, ...], work_dir: Path, parts: set[str]
) -> CoreMicroReport:
    """Run the in-process phases and the gRPC pairs on ``backend``, each part on a database of its own."""
    phases: list[PhaseResult] = []
    pairs: list[PairsResult] = []
    if "in-process" in parts:
        async with AsyncExitStack() as stack:
            directory = _directory(work_dir / "in-process")
            url = await _database(stack, backend) or f"sqlite:///{(directory / 'ringside.db').resolve()}"
            phases = await in_process(url, directory, seconds, writers)
    if "grpc" in parts:
        async with AsyncExitStack() as stack:
            directory = _directory(work_dir / "grpc")
            pairs = await over_grpc(await _database(stack, backend), directory, seconds, concurrencies)
    return CoreMicroReport(
        date=datetime.date.today().isoformat(),
        backend=backend,
        seconds=seconds,
        writers=writers,
        in_process=phases,
        over_grpc=pairs,
        machine=machine(),
        source=source(),
    )


def _ms(percentiles: Percentiles | None, attribute: str) -> str:
    return "-" if percentiles is None else f"{getattr(percentiles, attribute):.2f}"


def markdown(report: CoreMicroReport) -> str:
    """The two parts as Markdown tables, with the settle rate against the issue's target."""
    lines = [
        f"Core alone on {report.backend}, {report.seconds:g} s per phase:",
        "",
        "| in process | writers | durable ops | ops/s | CPU µs/op | commits | avg batch | wait p50 ms | wait p99 ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for phase in report.in_process:
        lines.append(
            f"| {phase.name} | {phase.writers} | {phase.operations} | {phase.per_s:,.0f} | {phase.cpu_us_per_op:.0f} "
            f"| {phase.commits} "
            f"| {phase.average_batch:.1f} | {_ms(phase.latency, 'p50_ms')} | {_ms(phase.latency, 'p99_ms')} |"
        )
    lines.append("")
    # Per-call settles, and calls settled through leases (the edge's default path); the CPU bound is
    # what one core would do with this process's CPU per op, the rate when the machine is not shared.
    for prefix, what in (("settle", "Durable settles/s (per call)"), ("lease", "Durable lease-reported calls/s")):
        phases = [phase for phase in report.in_process if phase.name.startswith(prefix)]
        if phases:
            phase = phases[0]
            verdict = "met" if phase.per_s >= SETTLES_TARGET_PER_S else "NOT met"
            bound = 1e6 / phase.cpu_us_per_op if phase.cpu_us_per_op else 0.0
            lines.append(
                f"{what}: {phase.per_s:,.0f} (target ≥ {SETTLES_TARGET_PER_S:,}: {verdict}); "
                f"CPU {phase.cpu_us_per_op:.0f} µs/op, one core's bound {bound:,.0f}/s"
            )
    if report.over_grpc:
        lines += [
            "",
            "| over gRPC | pairs | pairs/s | Authorize p50 ms | Authorize p99 ms | Settle p50 ms | Settle p99 ms "
            "| core CPU ms/pair |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for result in report.over_grpc:
            cpu = "-" if result.core_cpu_ms_per_pair is None else f"{result.core_cpu_ms_per_pair:.2f}"
            lines.append(
                f"| concurrency {result.concurrency} | {result.pairs} | {result.pairs_per_s:,.0f} "
                f"| {_ms(result.authorize, 'p50_ms')} | {_ms(result.authorize, 'p99_ms')} "
                f"| {_ms(result.settle, 'p50_ms')} | {_ms(result.settle, 'p99_ms')} | {cpu} |"
            )
    return "\n".join(lines)


def write(report: CoreMicroReport, out_dir: Path) -> Path:
    """Write ``<out_dir>/<date>-core-<backend>.json`` and its ``.md``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{report.date}-core-{report.backend}.json"
    path.write_bytes(orjson.dumps(report, option=orjson.OPT_INDENT_2))
    path.with_suffix(".md").write_text(markdown(report) + "\n")
    return path


def _concurrencies(text: str) -> tuple[int, ...]:
    values = tuple(int(value) for value in text.split(",") if value.strip())
    if not values or min(values) < 1 or max(values) > 1000:
        raise argparse.ArgumentTypeError("concurrencies are 1..1000")
    return values


def main(argv: Sequence[str] | None = None) -> None:
    """Parse the command line, run one backend, print and write the results."""
    parser = argparse.ArgumentParser(prog="python -m bench.core_micro", description=__doc__)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--seconds", type=float, default=10.0, help="per phase and per concurrency (≤ 600)")
    parser.add_argument("--writers", type=int, default=1000, help="concurrent in-process writers (1..10000)")
    parser.add_argument("--concurrency", type=_concurrencies, default=(1, 50), help="gRPC callers, e.g. 1,50")
    parser.add_argument("--parts", default="in-process,grpc", help="which parts: in-process, grpc or both")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results")
    args = parser.parse_args(argv)
    if not 0 < args.seconds <= 600 or not 1 <= args.writers <= 10_000:
        parser.error("--seconds must be in (0, 600] and --writers in 1..10000")
    parts = {part.strip() for part in args.parts.split(",")}
    if not parts or parts - {"in-process", "grpc"}:
        parser.error("--parts takes in-process and/or grpc")
    work_dir = args.out / "tmp" / f"core-{args.backend}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    try:
        report = asyncio.run(
            stoppable(run(args.backend, args.seconds, args.writers, args.concurrency, work_dir, parts))
        )
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)
    path = write(report, args.out)
    print(markdown(report))
    print(f"\nwritten to {path} (and .md)", file=sys.stderr)


if __name__ == "__main__":
    main()
