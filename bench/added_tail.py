"""What the edge adds to each call, as the edge itself times it: the share of calls whose added time
(the whole request less the upstream's part) passed 1, 2.5 and 5 ms, at a fixed rate.

The client's p99 at 20 req/s is the 2nd-worst of 200 calls and carries the load generator's, the
upstream's and the machine's noise (on a shared 2-core box the direct path's own p99 moves by tens
of ms); the edge's `ringside_http_added_latency_seconds` histogram leaves the upstream out, so a
call that waits for the core on its path (a key check, a lease grant) shows here. Starts the fake
upstream and one Ringside gateway, warms it, reads the histogram, runs an open-loop load, reads it
again.

Run: ``python -m bench.added_tail --gateway ringside_sqlite --rate 20 --seconds 30``.
"""

from __future__ import annotations

import argparse
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from bench.gateways import GATEWAYS, GatewayContext
from bench.loadgen import run_load
from bench.plan import MODES
from bench.procs import cpu_seconds, serve, stoppable
from bench.run import fake_upstream_spec, load_spec

HISTOGRAM = "ringside_http_added_latency_seconds_bucket"
ROUTE = "/v1/chat/completions"
SHOWN_BOUNDS_S = ("0.001", "0.0025", "0.005")
WARMUP_S = 2.0


async def _buckets(metrics_url: str) -> dict[str, float]:
    """The added-latency histogram's cumulative counts for the chat route, by upper bound."""
    async with aiohttp.ClientSession() as session, session.get(metrics_url) as response:
        text = await response.text()
    found = {}
    pattern = rf'^{HISTOGRAM}\{{[^}}]*le="([^"]+)"[^}}]*route="{re.escape(ROUTE)}"[^}}]*\}} ([0-9.e+]+)$'
    for bound, count in re.findall(pattern, text, re.MULTILINE):
        found[bound] = float(count)
    if not found:  # the labels in the other order
        pattern = rf'^{HISTOGRAM}\{{[^}}]*route="{re.escape(ROUTE)}"[^}}]*le="([^"]+)"[^}}]*\}} ([0-9.e+]+)$'
        found = {bound: float(count) for bound, count in re.findall(pattern, text, re.MULTILINE)}
    return found


async def measure(name: str, mode: str, rate_per_s: float, seconds: float, work_dir: Path) -> dict[str, float]:
    """The shares of calls whose added time passed each shown bound, and the gateway's CPU ms/call."""
    async with serve(fake_upstream_spec(work_dir)) as upstream:
        context = GatewayContext(upstream_base_url=f"{upstream.url}/v1", work_dir=work_dir)
        async with GATEWAYS[name](context) as gateway:
            metrics_url = gateway.base_url.removesuffix("/v1") + "/metrics"
            await run_load(load_spec(gateway, mode, gateway.warmup_rate_per_s or 50, WARMUP_S))
            before, cpu_before = await _buckets(metrics_url), cpu_seconds(gateway.pids)
            load = await run_load(load_spec(gateway, mode, rate_per_s, seconds))
            after, cpu_after = await _buckets(metrics_url), cpu_seconds(gateway.pids)
    counted = after["+Inf"] - before["+Inf"]
    result = {
        f"added > {float(bound) * 1000:g} ms": 1 - (after[bound] - before[bound]) / counted for bound in SHOWN_BOUNDS_S
    }
    result["gateway CPU ms/call"] = (cpu_after - cpu_before) * 1000 / max(1, load.ok)
    result["client p99 ms"] = load.latency.p99_ms if load.latency else float("nan")
    result["calls"] = counted
    result["answered"] = load.ok
    result["errors"] = load.error_count
    return result


def main(argv: Sequence[str] | None = None) -> None:
    import uvloop

    parser = argparse.ArgumentParser(prog="python -m bench.added_tail", description=__doc__)
    parser.add_argument(
        "--gateway", choices=sorted(name for name in GATEWAYS if name.startswith("ringside")), default="ringside_sqlite"
    )
    parser.add_argument("--mode", choices=MODES, default="non_stream")
    parser.add_argument("--rate", type=float, default=20.0, help="requests/s (open loop)")
    parser.add_argument("--seconds", type=float, default=30.0)
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ringside-added-"))
    result = uvloop.run(stoppable(measure(args.gateway, args.mode, args.rate, args.seconds, work)))
    print(f"{args.gateway}, {args.mode}, {args.rate:g} req/s for {args.seconds:g} s:")
    for label, value in result.items():
        print(f"  {label}: {value:.0f}" if label in ("calls", "answered", "errors") else f"  {label}: {value:.3f}")


if __name__ == "__main__":
    main()
