"""Where a gateway's processes spend their CPU under load: py-spy samples of each, summed by function.

Starts the fake upstream and one gateway from the registry, warms it, then runs an open-loop load while
``py-spy record`` samples every gateway process (non-blocking, active threads only, so the samples are
CPU, not waiting). Prints the top functions by self time (where the CPU is) and by inclusive time (which
calls it is for) per process, and keeps the raw samples.

Run: ``python -m bench.profile --gateway ringside_sqlite --rate 300 --seconds 15``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import datetime
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench.gateways import GATEWAYS, GatewayContext
from bench.loadgen import LoadResult, run_load
from bench.plan import MODES
from bench.procs import REPO_ROOT, serve, stoppable
from bench.run import fake_upstream_spec, load_spec

PY_SPY = Path(sys.executable).parent / "py-spy"
OWN_PACKAGES = ("core/", "edge_http/", "ringside_server/", "workers/")
ENTRY_MODULES = ("ringside_cli/cli.py", "ringside_cli/__main__.py", "ringside_cli/supervisor.py")
SAMPLES_PER_S = 100
WARMUP_S = 2.0


@dataclass(frozen=True)
class FunctionCost:
    """A function's share of one process's samples."""

    function: str
    self_share: float
    inclusive_share: float


@dataclass(frozen=True)
class ProcessProfile:
    """The top functions of one process (``role`` is its command line's last word: core, edge, ...)."""

    role: str
    pid: int
    samples: int
    by_self: list[FunctionCost]
    by_inclusive: list[FunctionCost]


def summarize_raw(role: str, pid: int, raw: str, top: int) -> ProcessProfile:
    """Fold py-spy's raw output (``frame;frame;... count`` per line, root first) into per-function shares."""
    self_counts: collections.Counter[str] = collections.Counter()
    inclusive_counts: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [frame for frame in stack.split(";") if not frame.startswith(("process ", "thread "))]
        if not frames:
            continue
        total += count
        self_counts[frames[-1]] += count
        for frame in set(frames):
            inclusive_counts[frame] += count

    def costs(counter: collections.Counter[str]) -> list[FunctionCost]:
        return [
            FunctionCost(name, self_counts[name] / total, inclusive_counts[name] / total)
            for name, _ in counter.most_common(top)
        ]

    # Inclusive shares only for Ringside's own functions below the entry points: which of its calls the
    # CPU is spent for (the entry points and the event loop would top the list with ~100 % each).
    own = collections.Counter(
        {name: count for name, count in inclusive_counts.items() if _is_own(name) and count < 0.95 * total}
    )
    return ProcessProfile(role, pid, total, costs(self_counts) if total else [], costs(own) if total else [])


def _is_own(frame: str) -> bool:
    location = frame.rpartition("(")[2]
    return location.startswith(OWN_PACKAGES) and not location.startswith(ENTRY_MODULES)


def _role(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().rstrip(b"\0").split(b"\0")[-1].decode()
    except OSError:
        return str(pid)


def _file_safe(text: str) -> str:
    return "".join(char if char.isalnum() or char in "-_." else "_" for char in text)[:60]


async def _record(pid: int, seconds: float, output: Path, native: bool) -> None:
    # --native walks C frames (grpc's core, uvloop) too, which needs the process paused at each sample.
    mode = "--native" if native else "--nonblocking"
    process = await asyncio.create_subprocess_exec(
        str(PY_SPY), "record", "--pid", str(pid), "--duration", str(int(seconds)), "--rate", str(SAMPLES_PER_S),
        "--format", "raw", "--nolineno", mode, "--output", str(output),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(process.communicate(), timeout=seconds + 30)
    if process.returncode != 0:
        raise RuntimeError(f"py-spy on {pid} failed: {stderr.decode(errors='replace')[-500:]}")


async def profile(
    name: str, mode: str, rate_per_s: float, seconds: float, work_dir: Path, top: int, native: bool = False
) -> tuple[LoadResult, list[ProcessProfile]]:
    """Run the load on ``name`` while py-spy samples each of its processes; return the load and the profiles."""
    async with serve(fake_upstream_spec(work_dir)) as upstream:
        context = GatewayContext(upstream_base_url=f"{upstream.url}/v1", work_dir=work_dir)
        async with GATEWAYS[name](context) as gateway:
            warmup_rate_per_s = gateway.warmup_rate_per_s or 50
            await run_load(load_spec(gateway, mode, warmup_rate_per_s, max(WARMUP_S, gateway.warmup_s)))
            roles = {pid: _role(pid) for pid in gateway.pids}
            # a role may be a URL (the bare proxy's last argument): only its safe characters name the file
            outputs = {pid: work_dir / f"py-spy-{_file_safe(roles[pid])}-{pid}.txt" for pid in gateway.pids}
            recorders = [asyncio.create_task(_record(pid, seconds, path, native)) for pid, path in outputs.items()]
            load = await run_load(load_spec(gateway, mode, rate_per_s, seconds + 1))
            await asyncio.gather(*recorders)
    profiles = [summarize_raw(roles[pid], pid, path.read_text(), top) for pid, path in outputs.items()]
    return load, profiles


def markdown(name: str, mode: str, rate_per_s: float, load: LoadResult, profiles: Sequence[ProcessProfile]) -> str:
    """Per process: its top functions by self and by inclusive share of the samples."""
    latency = load.latency
    lines = [
        f"{name}, {mode}, {rate_per_s:g} req/s: ok {load.ok}, errors {load.error_count}"
        + (f", p50 {latency.p50_ms:.2f} ms, p99 {latency.p99_ms:.2f} ms" if latency else ""),
    ]
    for process in profiles:
        lines += [
            "",
            f"{process.role} (pid {process.pid}, {process.samples} samples of active threads):",
            "",
            "| self % | function | | inclusive % | function |",
            "|---:|---|---|---:|---|",
        ]
        for by_self, by_inclusive in zip(process.by_self, process.by_inclusive, strict=False):
            lines.append(
                f"| {by_self.self_share:.1%} | `{by_self.function}` | "
                f"| {by_inclusive.inclusive_share:.1%} | `{by_inclusive.function}` |"
            )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> None:
    """CLI entry point; runs on uvloop like the benchmark."""
    import uvloop

    parser = argparse.ArgumentParser(prog="python -m bench.profile", description=__doc__)
    parser.add_argument("--gateway", choices=sorted(GATEWAYS), default="ringside_sqlite")
    parser.add_argument("--mode", choices=MODES, default="non_stream")
    parser.add_argument("--rate", type=float, default=300.0, help="requests/s (open loop)")
    parser.add_argument("--seconds", type=float, default=15.0, help="sampling time (1..300)")
    parser.add_argument("--top", type=int, default=15)
    parser.add_argument("--native", action="store_true", help="sample C frames too (grpc, uvloop); pauses them")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "bench" / "results" / "tmp")
    args = parser.parse_args(argv)
    if not 1 <= args.seconds <= 300:
        parser.error("--seconds must be in 1..300")
    work_dir = args.out / f"profile-{args.gateway}-{datetime.datetime.now():%Y%m%d-%H%M%S}"
    if not PY_SPY.exists():
        raise SystemExit(f"py-spy is not installed next to {sys.executable}")
    load, profiles = uvloop.run(
        stoppable(profile(args.gateway, args.mode, args.rate, args.seconds, work_dir, args.top, args.native))
    )
    print(markdown(args.gateway, args.mode, args.rate, load, profiles))
    print(f"\nraw samples kept in {work_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
