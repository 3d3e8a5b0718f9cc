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

    python -m bench.takeover --share fair [--pause]

Two ACTIVE cores (RINGSIDE_CORE_SHARE=fair, issue 25): A starts alone with every partition, B
starts and A hands it B's half (B loads that half's accounts: reported as B's share load). The
filled database has one account, so all its customers are in one partition: the core holding it
is killed (or paused), and the survivor takes its partitions (at once by its liveness lock; a
paused one's at their lapse), loads their accounts — filtered in SQL by account id
(core/store/loader.py) — and serves them. Reported: seconds from the kill to the survivor holding
them, to serving them (+ its load), to the first call answered. Writes
bench/results/<date>-takeover-fair[-pause].{json,md}.
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
from typing import Any

from bench.databases import scratch_postgres
from bench.history_load import generate
from bench.history_scale import _settings
from bench.machine import machine, source
from bench.procs import REPO_ROOT
from core.server import open_core, write_credentials
from core.services import accounts
from core.services.accounts import NewAccount
from core.services.core import Core
from ringside_server.partitions import DEFAULT_PARTITIONS, partition_of
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


SERVING = re.compile(r"serving (\d+) more partitions \((\d+) customers.* after ([0-9.]+) s")


def _logged_after(log: Path, text: str, after: float) -> tuple[float, str] | None:
    """The first line of `log` saying `text` stamped at or after `after` (epoch s): (when, message)."""
    for line in log.read_text(errors="replace").splitlines():
        found = STAMP.match(line)
        if found and text in found.group(2):
            stamp = datetime.datetime.strptime(found.group(1), "%Y-%m-%d %H:%M:%S,%f").timestamp()
            if stamp >= after - 0.001:
                return stamp, found.group(2)
    return None


def run_fair(work: Path, url: str, upstream: FakeUpstream, ttl_s: float, pause: bool) -> dict[str, Any]:
    """Two active cores; the one holding the (single) account's partition is killed or paused."""
    port_b = free_port()
    stack = Stack("postgres", work, upstream, database_url=url)
    stack.extra_env.update(
        {
            "RINGSIDE_CORE_SHARE": "fair",
            "RINGSIDE_CORE_LEASE_TTL_S": str(ttl_s),
            "RINGSIDE_CORE_ADDRESS": f"ipv4:127.0.0.1:{stack.grpc_port},127.0.0.1:{port_b}",
            "RINGSIDE_LOG_LEVEL": "INFO",
        }
    )
    env = stack.env
    logs = {"a": work / "core-a.log", "b": work / "core-b.log"}
    ports = {"a": stack.grpc_port, "b": port_b}
    processes = {}
    started = time.time()
    processes["a"] = start_process(
        [sys.executable, "-m", "ringside_cli", "core"],
        {**env, "RINGSIDE_CORE_ID": "a", "RINGSIDE_CORE_ADVERTISE_ADDRESS": f"127.0.0.1:{ports['a']}"},
        logs["a"],
    )
    wait_until(lambda: port_open(ports["a"]), 600, "core A")  # A first: it holds every partition
    processes["b"] = start_process(
        [sys.executable, "-m", "ringside_cli", "core"],
        {
            **env,
            "RINGSIDE_CORE_ID": "b",
            "RINGSIDE_GRPC_PORT": str(port_b),
            "RINGSIDE_CORE_ADVERTISE_ADDRESS": f"127.0.0.1:{port_b}",
        },
        logs["b"],
    )
    try:
        stack.edge = start_process([sys.executable, "-m", "ringside_cli", "edge"], env, work / "edge.log")
        wait_until(lambda: _logged_after(logs["b"], "more partitions", started), 600, "core B's share")
        share = _logged_after(logs["b"], "more partitions", started)
        assert share is not None
        b_share = SERVING.search(share[1])
        wait_until(lambda: port_open(stack.http_port) and _call(stack) == 200, 120, "a call through the edge")
        owners = dict(stack.query("SELECT owner, COUNT(*) FROM partition_leases GROUP BY owner"))
        account = json.loads((work / "credentials.json").read_text())["account_id"]
        (holder,) = stack.query(
            "SELECT owner FROM partition_leases WHERE partition = ?", partition_of(account, DEFAULT_PARTITIONS)
        )[0]
        survivor = "b" if holder == "a" else "a"
        victim = processes[str(holder)]
        killed_at = time.time()
        if pause:
            victim.send_signal(signal.SIGSTOP)
        else:
            victim.kill()
            victim.wait()
        answered_at, longest_s = _answered_again(stack, killed_at)
        claimed = _logged_after(logs[survivor], "took its", killed_at) or _logged_after(
            logs[survivor], "lapsed partitions", killed_at
        )
        serving = _logged_after(logs[survivor], "more partitions", killed_at)
        assert claimed is not None and serving is not None, logs[survivor].read_text()[-2000:]
        loaded = SERVING.search(serving[1])
        assert loaded is not None
        result = {
            "partitions_before": owners,
            "victim": str(holder),
            "b_share_partitions": int(b_share.group(1)) if b_share else 0,
            "b_share_customers": int(b_share.group(2)) if b_share else 0,
            "b_share_load_s": float(b_share.group(3)) if b_share else 0.0,
            "claimed_s": round(claimed[0] - killed_at, 2),
            "serving_s": round(serving[0] - killed_at, 2),
            "answered_s": round(answered_at - killed_at, 2),
            "load_s": float(loaded.group(3)),
            "loaded_partitions": int(loaded.group(1)),
            "loaded_customers": int(loaded.group(2)),
            "longest_call_s": round(longest_s, 2),
        }
        if pause:
            victim.send_signal(signal.SIGCONT)
            result["resumed_exit_status"] = victim.wait(timeout=120)
        return result
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGCONT)
            stop_process(process)
        stop_process(stack.edge)


def run(work: Path, url: str, upstream: FakeUpstream, ttl_s: float, pause: bool) -> dict[str, Any]:
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
    parser.add_argument("--share", choices=("all", "fair"), default="all", help="fair: two active cores")
    args = parser.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="ringside-takeover-"))
    async with AsyncExitStack() as stack:
        url = await stack.enter_async_context(scratch_postgres("ringside_takeover_"))
        started = time.perf_counter()
        await fill(work, url, args.customers, args.calls)
        filled_s = time.perf_counter() - started
        upstream = FakeUpstream.start(work)
        try:
            runner = run_fair if args.share == "fair" else run
            result = await asyncio.to_thread(runner, work, url, upstream, args.lease_ttl_s, args.pause)
        finally:
            stop_process(upstream.process)
    report = {
        "customers": args.customers,
        "calls": args.calls,
        "lease_ttl_s": args.lease_ttl_s,
        "share": args.share,
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
    if args.share == "fair":
        table += (
            f"\n\nfair, two active cores: B's share at its start {result['b_share_partitions']} partitions, "
            f"{result['b_share_customers']} customers, loaded in {result['b_share_load_s']} s; core "
            f"{result['victim']} (holding the customers) {'paused' if args.pause else 'killed'}; the survivor "
            f"loaded {result['loaded_partitions']} partitions ({result['loaded_customers']} customers) "
            f"in {result['load_s']} s."
        )
    if args.pause:
        table += f"\n\nThe paused core, resumed, exited with status {result['resumed_exit_status']} (3: fenced)."
    print(table)
    results = REPO_ROOT / "bench" / "results"
    name = f"{datetime.date.today().isoformat()}-takeover" + ("-fair" if args.share == "fair" else "")
    name += "-pause" if args.pause else ""
    name += f"-{args.label}" if args.label else ""
    (results / f"{name}.json").write_text(json.dumps(report, indent=2) + "\n")
    (results / f"{name}.md").write_text(table + "\n")


if __name__ == "__main__":
    asyncio.run(main())
