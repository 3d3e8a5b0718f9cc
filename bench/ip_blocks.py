"""The cost of an IP's window exact across two active cores (docs/scaling.md "An IP's window across
active cores", core/services/ip_blocks.py): the same load with the IP limit off and on.

    python -m bench.ip_blocks [--calls 2000] [--ips 8] [--rounds 2] [--concurrency 16]

Per run: a fresh PostgreSQL database, two `fair` cores (core-a and core-b, each serving half the
partitions), one edge trusting the load generator's X-Forwarded-For, one account on each core;
`--calls` non-stream chat calls from `--ips` client IPs, naming the two accounts in turn (so each
core admits calls of IPs the other owns). The IP limit is 0 (off: no block, no RPC) or 1,000,000 a
minute (on: never refusing, blocks of 64). Runs alternate off/on `--rounds` times. For an A/B
against the code before (per-core IP windows), run `--limit 1000000` with
`PYTHONPATH=<that tree>:<that tree>/sdk/python` (this file copied into it) alternately with this one. It prints, per
call: the CPU of both cores together, of the PostgreSQL backends, the `LendIpBlock` RPCs served
(the cores' gRPC metrics) and the rows written into partition_windows; and the machine's other load.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import re
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from bench.databases import backend_pids
from bench.procs import cpu_seconds, machine_busy_seconds
from bench.scaling import table_writes
from tests.e2e.active_cores import core_env, fair_env, half, serving_its_half
from tests.harness import (
    ADMIN_KEY,
    FakeUpstream,
    Stack,
    free_port,
    http,
    port_open,
    start_process,
    stop_process,
    wait_until,
)

MODEL = "fc:openai/gpt-4o-mini"
BODY = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "ip blocks"}]}
LENDS = re.compile(r'^ringside_grpc_requests_total\{[^}]*method="[^"]*LendIpBlock"[^}]*\} ([0-9.e+]+)$', re.M)


def lends(metrics_port: int) -> int:
    text = http("GET", f"http://127.0.0.1:{metrics_port}/metrics").body.decode()
    return int(sum(float(v) for v in LENDS.findall(text)))


def run(
    ip_limit: int, calls: int, ips: int, concurrency: int, upstream: FakeUpstream, work: pathlib.Path
) -> dict[str, Any]:
    stack = Stack("postgres", work / f"ip-{ip_limit}-{time.monotonic_ns()}", upstream)
    port_b, metrics_a, metrics_b = free_port(), free_port(), free_port()
    stack.extra_env.update(fair_env(stack, port_b))
    stack.extra_env.update(
        {
            "RINGSIDE_LOG_LEVEL": "WARNING",
            "RINGSIDE_RATE_LIMIT_IP_PER_MIN": str(ip_limit),
            "RINGSIDE_TRUSTED_PROXIES": "127.0.0.1/32",
            "RINGSIDE_CORE_METRICS_PORT": str(metrics_a),
        }
    )
    stack.start()
    core_b: subprocess.Popen[bytes] | None = None
    try:
        accounts: dict[int, str] = {}  # half → its live key, each made from an IP of its own
        for n in range(1, 60):
            made = stack.call(
                "POST", "/v1/accounts", ADMIN_KEY, {"name": "ip"}, headers={"X-Forwarded-For": f"10.9.0.{n}"}
            ).json()
            live = next(k["secret"] for k in made["api_keys"] if k["livemode"])
            accounts.setdefault(half(made["id"]), live)
            if len(accounts) == 2:
                break
        env = {**core_env(stack, "core-b", port_b), "RINGSIDE_CORE_METRICS_PORT": str(metrics_b)}
        log_b = stack.data_dir / "core-b.log"
        env["RINGSIDE_LOG_LEVEL"] = "INFO"
        core_b = start_process([sys.executable, "-m", "ringside_cli", "core"], env, log_b)
        wait_until(lambda: port_open(port_b), 60, "core-b's port")
        wait_until(lambda: serving_its_half(log_b), 60, "core-b's share")
        keys = [accounts[0], accounts[1]]

        def one(index: int) -> int:
            headers = {"X-Forwarded-For": f"198.18.0.{1 + index % ips}"}
            url = stack.base_url + "/v1/chat/completions"
            return http("POST", url, keys[(index // ips) % 2], BODY, headers=headers).status

        with ThreadPoolExecutor(max_workers=concurrency) as pool:  # warm-up: channels, first blocks
            list(pool.map(one, range(200)))
        time.sleep(1.0)
        assert stack.core is not None
        core_pids = [stack.core.pid, core_b.pid]
        postgres_pids = asyncio.run(backend_pids(stack.database_url))
        before = (cpu_seconds(core_pids), cpu_seconds(postgres_pids), machine_busy_seconds())
        lends_before = lends(metrics_a) + lends(metrics_b)
        rows_before = table_writes(stack.database_url).get("partition_windows", 0)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            statuses = list(pool.map(one, range(calls)))
        elapsed_s = time.perf_counter() - started
        assert statuses.count(200) == calls, {s: statuses.count(s) for s in set(statuses)}
        time.sleep(1.0)  # the last lease reports
        after = (cpu_seconds(core_pids), cpu_seconds(postgres_pids), machine_busy_seconds())
        own = (after[0] - before[0]) + (after[1] - before[1])
        return {
            "ip_limit": ip_limit,
            "rate_per_s": calls / elapsed_s,
            "cores_cpu_ms_per_call": 1000 * (after[0] - before[0]) / calls,
            "postgres_cpu_ms_per_call": 1000 * (after[1] - before[1]) / calls,
            "lend_rpcs_per_call": (lends(metrics_a) + lends(metrics_b) - lends_before) / calls,
            "window_rows_per_call": (table_writes(stack.database_url).get("partition_windows", 0) - rows_before)
            / calls,
            "other_cpu_cores": max(0.0, (after[2] - before[2] - own) / (elapsed_s + 1.0)),
        }
    finally:
        stop_process(core_b)
        stack.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--ips", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--limit", type=int, action="append", help="the IP limits run (default: 0 and 1,000,000)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="ringside-ipblocks-") as tmp:
        work = pathlib.Path(tmp)
        upstream = FakeUpstream.start(work)
        try:
            limits = args.limit or [0, 1_000_000]
            results: dict[int, list[dict[str, Any]]] = {limit: [] for limit in limits}
            for _ in range(args.rounds):
                for limit in limits:
                    one_run = run(limit, args.calls, args.ips, args.concurrency, upstream, work)
                    results[limit].append(one_run)
                    print({k: round(v, 3) if isinstance(v, float) else v for k, v in one_run.items()}, flush=True)
            for limit, found in results.items():
                print(
                    f"IP limit {limit}: cores CPU ms/call median "
                    f"{statistics.median(r['cores_cpu_ms_per_call'] for r in found):.3f}, PostgreSQL "
                    f"{statistics.median(r['postgres_cpu_ms_per_call'] for r in found):.3f}, LendIpBlock/call "
                    f"{statistics.median(r['lend_rpcs_per_call'] for r in found):.4f}, window rows/call "
                    f"{statistics.median(r['window_rows_per_call'] for r in found):.4f}"
                )
        finally:
            stop_process(upstream.process)


if __name__ == "__main__":
    main()
