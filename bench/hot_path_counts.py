"""What one metered call costs the core, counted rather than timed: group commits, writes, lease
grants and the core's gRPC calls by method per request, beside the gateway's CPU per request.

Counts do not move with the machine's load (timings do, on a 2-core box shared with other work), so
they tell a change to the hot path's shape apart from noise. Starts the fake upstream and one
gateway from the registry with the core's metrics on, warms it, reads the core's counters, runs an
open-loop load, reads them again.

Run: ``python -m bench.hot_path_counts --gateway ringside_sqlite --rate 200 --seconds 10``;
``--callers N`` (a Ringside gateway) splits the rate among N customers of the account, each its own
lease: the shape of an edge serving several steady callers at once.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import aiohttp

from bench.gateways import GATEWAYS, Gateway, GatewayContext, _seed_customer
from bench.loadgen import LoadResult, run_load
from bench.plan import MODES
from bench.procs import cpu_seconds, free_port, serve, stoppable
from bench.profile import _role
from bench.run import fake_upstream_spec, load_spec

COUNTERS = {
    "commits": "ringside_core_commit_duration_seconds_count",
    "writes": "ringside_core_commit_batch_units_sum",
    "lease grants": "ringside_core_leases_granted_total",
}
RPC_COUNTER = re.compile(r'^ringside_grpc_requests_total\{[^}]*method="(\w+)"[^}]*\} ([0-9.e+]+)$', re.MULTILINE)
WARMUP_S = 2.0


async def _counters(url: str) -> dict[str, float]:
    async with aiohttp.ClientSession() as session, session.get(url) as response:
        text = await response.text()
    found = {}
    for label, name in COUNTERS.items():
        match = re.search(rf"^{name} ([0-9.e+]+)$", text, re.MULTILINE)
        found[label] = float(match.group(1)) if match else 0.0
    # every gRPC call the core served, by method (edge → core round trips: reports, grants, ...)
    for match in RPC_COUNTER.finditer(text):
        found[f"rpc {match.group(1)}"] = found.get(f"rpc {match.group(1)}", 0.0) + float(match.group(2))
    return found


async def _callers_load(
    gateway: Gateway, mode: str, rate_per_s: float, seconds: float, callers: int
) -> list[LoadResult]:
    """`callers` customers (the gateway's own first) sharing `rate_per_s`, side by side."""
    headers = [dict(gateway.headers)]
    api_key = gateway.headers.get("Authorization", "").removeprefix("Bearer ")
    for number in range(1, callers):
        customer_id = await _seed_customer(gateway.base_url, api_key, f"bench-customer-{number}")
        headers.append({**gateway.headers, "FC-Customer": customer_id})
    specs = [
        dataclasses.replace(load_spec(gateway, mode, rate_per_s / callers, seconds), headers=caller)
        for caller in headers
    ]
    return list(await asyncio.gather(*(run_load(spec) for spec in specs)))


async def count(
    name: str, mode: str, rate_per_s: float, seconds: float, work_dir: Path, callers: int = 1
) -> dict[str, float]:
    """Per answered request: each counter's increase, and the gateway's CPU ms."""
    port = free_port()
    os.environ["RINGSIDE_CORE_METRICS_PORT"] = str(port)  # the gateway's processes inherit it
    metrics_url = f"http://127.0.0.1:{port}/metrics"
    async with serve(fake_upstream_spec(work_dir)) as upstream:
        context = GatewayContext(upstream_base_url=f"{upstream.url}/v1", work_dir=work_dir)
        async with GATEWAYS[name](context) as gateway:
            await run_load(load_spec(gateway, mode, gateway.warmup_rate_per_s or 50, WARMUP_S))
            pids = {_role(pid): pid for pid in gateway.pids}
            before, cpu_before = await _counters(metrics_url), {role: cpu_seconds([pid]) for role, pid in pids.items()}
            loads = await _callers_load(gateway, mode, rate_per_s, seconds, callers)
            after, cpu_after = await _counters(metrics_url), {role: cpu_seconds([pid]) for role, pid in pids.items()}
    answered = max(1, sum(load.ok for load in loads))
    per_request = {label: (after[label] - before.get(label, 0.0)) / answered for label in after}
    for role in pids:
        per_request[f"{role} CPU ms"] = (cpu_after[role] - cpu_before[role]) * 1000 / answered
    per_request["answered"] = sum(load.ok for load in loads)
    per_request["errors"] = sum(load.error_count for load in loads)
    for load in loads:
        if load.errors:
            print("errors:", load.errors)
    return per_request


def main(argv: Sequence[str] | None = None) -> None:
    import uvloop

    parser = argparse.ArgumentParser(prog="python -m bench.hot_path_counts", description=__doc__)
    parser.add_argument("--gateway", choices=sorted(GATEWAYS), default="ringside_sqlite")
    parser.add_argument("--mode", choices=MODES, default="non_stream")
    parser.add_argument("--rate", type=float, default=200.0, help="requests/s (open loop)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--callers", type=int, default=1, help="customers sharing the rate (Ringside)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ringside-counts-"))  # kept: the gateway's logs are there
    counts = uvloop.run(stoppable(count(args.gateway, args.mode, args.rate, args.seconds, work, args.callers)))
    print(
        f"{args.gateway}, {args.mode}, {args.rate:g} req/s ({args.callers} callers) for {args.seconds:g} s,"
        " per answered request:"
    )
    for label, value in counts.items():
        print(f"  {label}: {value:.3f}" if label not in ("answered", "errors") else f"  {label}: {value:.0f}")
    print(f"logs in {work}")


if __name__ == "__main__":
    main()
