"""The capacity model's inputs (docs/scaling.md): CPU per metered call in each role, and what a call
writes to PostgreSQL, on a real core + N edges on the machine's PostgreSQL.

    python -m bench.scaling [--edges 1 --edges 3] [--calls 3000] [--concurrency 32]

Per edge count: a fresh database, one core, N edge processes, a customer with a budget (full
metering: lease admission, settle, ledger), `--calls` non-stream chat calls spread round-robin
over the edges at `--concurrency`. It prints, per call: edge CPU ms (all edges), core CPU ms,
PostgreSQL backend CPU ms, commits and rows inserted/updated/deleted (pg_stat_database deltas for
this run's database only). CPU times come from /proc;
the load generator's own CPU is not counted. The machine's other load is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import secrets
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg

from bench.databases import backend_pids
from bench.procs import cpu_seconds, machine_busy_seconds
from tests.harness import FakeUpstream, Stack, http, stop_process, wait_until

MODEL = "fc:openai/gpt-4o-mini"
BODY = {"model": MODEL, "max_tokens": 16, "messages": [{"role": "user", "content": "capacity"}]}
STATS = "SELECT xact_commit, tup_inserted, tup_updated, tup_deleted FROM pg_stat_database WHERE datname = %s"


def database_stats(url: str) -> tuple[int, ...]:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        row = connection.execute(STATS, (name,)).fetchone()
    assert row
    return tuple(int(value) for value in row)


def table_writes(url: str) -> dict[str, int]:
    """Rows inserted + updated + deleted so far, per table of this database."""
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute("SELECT pg_stat_clear_snapshot()")
        rows = connection.execute(
            "SELECT relname, n_tup_ins + n_tup_upd + n_tup_del FROM pg_stat_user_tables"
        ).fetchall()
    return {str(name): int(count) for name, count in rows}


def measure(edges: int, calls: int, concurrency: int, upstream: FakeUpstream, work: pathlib.Path) -> dict[str, Any]:
    stack = Stack("postgres", work / f"edges-{edges}", upstream, extra_env={"RINGSIDE_LOG_LEVEL": "ERROR"}).start()
    try:
        urls = [stack.base_url, *(stack.start_edge() for _ in range(edges - 1))]
        customer = http(
            "POST",
            urls[0] + "/v1/customers",
            stack.live_key,
            {"external_id": "cap_" + secrets.token_hex(4), "budget_usd": "1000"},
        ).json()["id"]

        def one(index: int) -> int:
            url = urls[index % len(urls)] + "/v1/chat/completions"
            return http("POST", url, stack.live_key, BODY, headers={"FC-Customer": customer}).status

        with ThreadPoolExecutor(max_workers=concurrency) as pool:  # warm-up: leases, caches, connections
            list(pool.map(one, range(200)))
        edge_pids = [p.pid for p in (stack.edge, *stack.more_edges) if p is not None]
        assert stack.core is not None
        time.sleep(1.0)
        postgres_pids = asyncio.run(backend_pids(stack.database_url))
        core_pid = stack.core.pid

        def cpu() -> tuple[float, float, float, float]:
            """(edges, core, PostgreSQL backends, whole machine) CPU seconds so far."""
            return cpu_seconds(edge_pids), cpu_seconds([core_pid]), cpu_seconds(postgres_pids), machine_busy_seconds()

        before, stats_before = cpu(), database_stats(stack.database_url)
        tables_before = table_writes(stack.database_url)
        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            statuses = list(pool.map(one, range(calls)))
        elapsed_s = time.perf_counter() - started
        assert statuses.count(200) == calls, {s: statuses.count(s) for s in set(statuses)}
        wait_until(
            lambda: (
                http("GET", f"{urls[0]}/v1/customers/{customer}", stack.live_key).json()["request_count_mtd"]
                >= calls + 200
            ),
            30,
            "every call settled",
        )
        time.sleep(1.0)  # the last lease reports and closes
        after, stats_after = cpu(), database_stats(stack.database_url)
        tables_after = table_writes(stack.database_url)
        per_table = {name: (count - tables_before.get(name, 0)) / calls for name, count in tables_after.items()}
        own_cpu_s = sum(after[i] - before[i] for i in range(3))
        window_s = elapsed_s + 1.0
        stats = [a - b for a, b in zip(stats_after, stats_before, strict=True)]
        return {
            "edges": edges,
            "calls": calls,
            "rate_per_s": calls / elapsed_s,
            "edge_cpu_ms_per_call": 1000 * (after[0] - before[0]) / calls,
            "core_cpu_ms_per_call": 1000 * (after[1] - before[1]) / calls,
            "postgres_cpu_ms_per_call": 1000 * (after[2] - before[2]) / calls,
            "commits_per_call": stats[0] / calls,
            "rows_inserted_per_call": stats[1] / calls,
            "rows_updated_per_call": stats[2] / calls,
            "rows_deleted_per_call": stats[3] / calls,
            "other_cpu_cores": max(0.0, (after[3] - before[3] - own_cpu_s) / window_s),
            "row_writes_per_call_by_table": {name: round(v, 3) for name, v in sorted(per_table.items()) if v >= 0.001},
        }
    finally:
        stack.destroy()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--edges", type=int, action="append")
    parser.add_argument("--calls", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=32)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        work = pathlib.Path(scratch)
        upstream = FakeUpstream.start(work)
        try:
            for edges in arguments.edges or [1, 3]:
                result = measure(edges, arguments.calls, arguments.concurrency, upstream, work)
                print(" ".join(f"{k}={v:.3f}" if isinstance(v, float) else f"{k}={v}" for k, v in result.items()))
        finally:
            stop_process(upstream.process)


if __name__ == "__main__":
    main()
