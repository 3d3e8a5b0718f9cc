"""Core takeover time on PostgreSQL (issue 25): an active core, a standby and an edge; SIGKILL the
active core under a trickle of calls and time how long until the edge answers again.

    python -m bench.takeover [--customers 10000] [--calls 100000] [--lease-ttl-s 5]

The database is filled as bench/history_scale.py fills it (N customers, M settled calls over six
periods; the core closed meanwhile), then core A (every partition), core B (the standby: its port
closed while A's lease rows are live) and one edge whose RINGSIDE_CORE_ADDRESS lists both start as
processes. Calls go through the edge (fake upstream) one after another; A is SIGKILLed. Reported:
seconds from the kill to B holding every partition (A's liveness lock goes with its session; with
--pause, the lease lapse), to B serving gRPC (+ its state load), and to the first call the edge
answered 200 (+ the edge's reconnect). Writes bench/results/<date>-takeover[-label].{json,md}.

    python -m bench.takeover --pause [--customers 1000] [--calls 2000]

SIGSTOPs core A instead (a frozen process whose TCP connections stay open): also reported, the
longest any one call took from the pause to the first call answered again — what an edge's caller
waits while the core it is connected to does not answer (its keepalive pings go unanswered:
ringside_server/core_client.py) — and that A, resumed, exits with status 3 (fenced). Writes
bench/results/<date>-takeover-pause.{json,md}.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import re
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from contextlib import AsyncExitStack
from pathlib import Path

from bench.databases import scratch_postgres
from bench.history_load import generate
from bench.history_scale import _settings
from bench.machine import machine, source
from bench.procs import REPO_ROOT
from core.server import open_core, write_credentials
from core.services import accounts
from core.services.accounts import NewAccount
from core.services.core import Core
from tests.harness import FakeUpstream, Stack, free_port, http, port_open, start_process, stop_process, wait_until

MODEL = "fc:openai/gpt-4o-mini"
STAMP = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3}) INFO ringside\.core[.a-z]*: (.*)$")


async def fill(data_dir: Path, url: str, customers_n: int, calls: int) -> None:
    settings = _settings(data_dir, url)
    core = await open_core(settings)
    bootstrap = accounts.bootstrap
    created: list[NewAccount] = []

    async def keeping_keys(core: Core) -> NewAccount | None:  # generate() bootstraps; its keys are ours
        new = await bootstrap(core)
        created.extend([new] if new is not None else [])
        return new

    accounts.bootstrap = keeping_keys
    try:
        await generate(core, customers_n, calls)
        write_credentials(settings, created[0])
    finally:
        accounts.bootstrap = bootstrap
        await core.writer.close()
        if core.partition_leases is not None:  # the writer's close stopped their renewal
            core.partition_leases.release()  # as a clean stop does: core A need not wait out the lease
        core.engine.dispose()


def _logged_at(log: Path, text: str) -> float | None:
    for line in log.read_text(errors="replace").splitlines():
        found = STAMP.match(line)
        if found and text in found.group(2):
            stamp = datetime.datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f")
            return stamp.timestamp()
    return None


def _call(stack: Stack) -> int:
    body = {"model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "ping"}]}
    try:
        return http("POST", stack.base_url + "/v1/chat/completions", stack.live_key, body, timeout_s=30).status
    except OSError:
        return 0


def _answered_again(stack: Stack, killed_at: float) -> tuple[float, float]:
    """When a call is answered after one was refused (the edge admits on its lease for up to a lease
    window without the core, so the first answers after the kill may never have reached a core),
    and the longest one call took until then."""
    refused = False
    longest_s = 0.0
    while time.time() - killed_at < 600:
        started = time.time()
        status = _call(stack)
        longest_s = max(longest_s, time.time() - started)
        if status != 200:
            refused = True
        elif refused:
            return time.time(), longest_s
        time.sleep(0.02)
    raise TimeoutError("no call answered within 600 s of the kill")


def run(work: Path, url: str, upstream: FakeUpstream, ttl_s: float, pause: bool) -> dict[str, float]:
    standby_port = free_port()
    stack = Stack("postgres", work, upstream, database_url=url)
    stack.extra_env.update(
        {
            "RINGSIDE_CORE_LEASE_TTL_S": str(ttl_s),
            "RINGSIDE_CORE_ADDRESS": f"ipv4:127.0.0.1:{stack.grpc_port},127.0.0.1:{standby_port}",
            "RINGSIDE_CORE_SHARE": "all",  # an active core and a standby (`fair` is the default)
            "RINGSIDE_LOG_LEVEL": "INFO",
        }
    )
    env = stack.env
    a_log, b_log = work / "core-a.log", work / "core-b.log"
    stack.core = start_process([sys.executable, "-m", "ringside_cli", "core"], {**env, "RINGSIDE_CORE_ID": "a"}, a_log)
    wait_until(lambda: port_open(stack.grpc_port), 600, "core A")  # A first: it holds every partition
    standby = start_process(
        [sys.executable, "-m", "ringside_cli", "core"],
        {**env, "RINGSIDE_CORE_ID": "b", "RINGSIDE_GRPC_PORT": str(standby_port)},
        b_log,
    )
    try:
        stack.edge = start_process([sys.executable, "-m", "ringside_cli", "edge"], env, work / "edge.log")
        wait_until(lambda: "waits for" in b_log.read_text(errors="replace"), 600, "core B to wait as the standby")
        wait_until(lambda: port_open(stack.http_port) and _call(stack) == 200, 120, "a call through core A")
        killed_at = time.time()
        if pause:
            stack.core.send_signal(signal.SIGSTOP)
        else:
            stack.core.kill()
            stack.core.wait()
        answered_at, longest_s = _answered_again(stack, killed_at)
        claimed_at = _logged_at(b_log, "holds all")
        serving_at = _logged_at(b_log, "core serving gRPC")
        assert claimed_at is not None and serving_at is not None, b_log.read_text()[-2000:]
        result = {
            "claimed_s": round(claimed_at - killed_at, 2),
            "serving_s": round(serving_at - killed_at, 2),
            "answered_s": round(answered_at - killed_at, 2),
            "load_s": round(serving_at - claimed_at, 2),
            "longest_call_s": round(longest_s, 2),
        }
        if pause:  # resumed, A finds its partitions taken at its next renewal and stops, fenced
            stack.core.send_signal(signal.SIGCONT)
            result["resumed_exit_status"] = stack.core.wait(timeout=120)
        return result
    finally:
        stop_process(standby)
        stack.stop()


async def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--lease-ttl-s", type=float, default=5.0)
    parser.add_argument("--pause", action="store_true", help="SIGSTOP core A instead of SIGKILL")
    parser.add_argument("--label", default="", help="appended to the results' file name (keeps earlier runs)")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ringside-takeover-"))
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(scratch_postgres("ringside_takeover_"))
        started = time.perf_counter()
        await fill(work, url, args.customers, args.calls)
        filled_s = time.perf_counter() - started
        upstream = FakeUpstream.start(work)
        try:
            result = await asyncio.to_thread(run, work, url, upstream, args.lease_ttl_s, args.pause)
        finally:
            stop_process(upstream.process)
    report = {
        "customers": args.customers,
        "calls": args.calls,
        "lease_ttl_s": args.lease_ttl_s,
        "fill_s": round(filled_s, 1),
        **result,
        "machine": machine(),
        "source": source(),
    }
    event = "pause" if args.pause else "kill"
    line = (
        f"| {args.customers:,} | {args.calls:,} | {args.lease_ttl_s:g} | {result['claimed_s']} | {result['load_s']} "
        f"| {result['serving_s']} | {result['answered_s']} | {result['longest_call_s']} |"
    )
    table = (
        f"| customers | calls in history | lease TTL s | {event} → standby holds all | state load s "
        f"| {event} → standby serving | {event} → first call answered | longest call s |\n"
        "|---:|---:|---:|---:|---:|---:|---:|---:|\n" + line
    )
    if args.pause:
        table += f"\n\nCore A, resumed, exited with status {result['resumed_exit_status']} (3: fenced)."
    print(table)
    results = REPO_ROOT / "bench" / "results"
    name = f"{datetime.date.today().isoformat()}-takeover" + ("-pause" if args.pause else "")
    name += f"-{args.label}" if args.label else ""
    (results / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (results / f"{name}.md").write_text(table + "\n")


if __name__ == "__main__":
    asyncio.run(main())
