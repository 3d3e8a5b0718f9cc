"""The cost of the calls that list across accounts with N active cores (docs/scaling.md "Partitions
over active cores", core/rpc/fanout.py): one PostgreSQL database, cores added one at a time.

    python -m bench.fanout [--cores 4] [--calls 200]

For each N = 1..--cores: the partitions shared by N fair cores (the lease rows split evenly), then
`--calls` `PendingBatches` calls asked of the first core, fanned out (the first core reads the
partition map and asks the N - 1 others) and answered from its memory alone
(`x-ringside-local: 1`), one after another. It prints per call: client wall time (median, p90), the
CPU of all cores together and of the PostgreSQL backends, and the idle CPU of all cores per second
(the share loops, checkpoints and heartbeats, no calls). The pollers (workers, rag role) ask each
of their lists every 0.25–0.5 s: multiply. The machine's other load is printed beside them.
"""

from __future__ import annotations

import argparse
import asyncio
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

import grpc

from bench.databases import backend_pids
from bench.procs import cpu_seconds, machine_busy_seconds
from ringside.core.v1 import batches_pb2, batches_pb2_grpc
from ringside_server.partitions import DEFAULT_PARTITIONS
from tests.e2e.active_cores import core_env
from tests.harness import Stack, free_port, port_open, start_process, stop_process, wait_until

IDLE_S = 5.0


def evenly_shared(stack: Stack, cores: int) -> bool:
    counts = [int(count) for _, count in stack.query("SELECT owner, COUNT(*) FROM partition_leases GROUP BY owner")]
    return len(counts) == cores and max(counts) - min(counts) <= 1 and sum(counts) == DEFAULT_PARTITIONS


def timed_calls(stack: Stack, calls: int, local: bool, pids: list[int], postgres: list[int]) -> dict[str, float]:
    metadata = [("x-ringside-internal", stack.internal_token)] + ([("x-ringside-local", "1")] if local else [])
    with grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}") as channel:
        stub = batches_pb2_grpc.BatchesServiceStub(channel)
        request = batches_pb2.PendingBatchesRequest()
        for _ in range(10):  # warm: channels to the peers, the map query's plan
            stub.PendingBatches(request, metadata=metadata, timeout=30)
        walls: list[float] = []
        cores_before, postgres_before = cpu_seconds(pids), cpu_seconds(postgres)
        for _ in range(calls):
            started = time.perf_counter()
            stub.PendingBatches(request, metadata=metadata, timeout=30)
            walls.append((time.perf_counter() - started) * 1000)
        cores_cpu, postgres_cpu = cpu_seconds(pids) - cores_before, cpu_seconds(postgres) - postgres_before
    walls.sort()
    return {
        "wall_p50_ms": statistics.median(walls),
        "wall_p90_ms": walls[int(0.9 * (len(walls) - 1))],
        "cores_cpu_ms": 1000 * cores_cpu / calls,
        "postgres_cpu_ms": 1000 * postgres_cpu / calls,
    }


def measure(max_cores: int, calls: int, work: pathlib.Path) -> list[dict[str, Any]]:
    ports = [free_port() for _ in range(max_cores - 1)]
    stack = Stack("postgres", work / "data", None)
    stack.extra_env.update(
        {
            "RINGSIDE_CORE_SHARE": "fair",
            "RINGSIDE_CORE_ID": "core-1",
            "RINGSIDE_CORE_ADVERTISE_ADDRESS": f"127.0.0.1:{stack.grpc_port}",
            "RINGSIDE_LOG_LEVEL": "WARNING",
        }
    )
    others: list[subprocess.Popen[bytes]] = []
    results: list[dict[str, Any]] = []
    stack.start()
    try:
        assert stack.core is not None
        for cores in range(1, max_cores + 1):
            if cores > 1:
                port = ports[cores - 2]
                env = {**core_env(stack, f"core-{cores}", port), "RINGSIDE_LOG_LEVEL": "WARNING"}
                log = work / f"core-{cores}.log"
                others.append(start_process([sys.executable, "-m", "ringside_cli", "core"], env, log))
                wait_until(lambda port=port: port_open(port), 60, f"core-{cores}'s port")
            wait_until(lambda cores=cores: evenly_shared(stack, cores), 120, f"{cores} cores sharing evenly")
            time.sleep(2.0)  # the last hand-back's loads done
            pids = [stack.core.pid, *(process.pid for process in others)]
            postgres = asyncio.run(backend_pids(stack.database_url))
            busy_before, idle_before = machine_busy_seconds(), cpu_seconds(pids)
            time.sleep(IDLE_S)
            idle_cpu, busy = cpu_seconds(pids) - idle_before, machine_busy_seconds() - busy_before
            row: dict[str, Any] = {"cores": cores, "idle_cores_cpu_ms_per_s": 1000 * idle_cpu / IDLE_S}
            row["machine_busy_cores"] = busy / IDLE_S
            for label, local in (("fanned", False), ("local", True)):
                for key, value in timed_calls(stack, calls, local, pids, postgres).items():
                    row[f"{label}_{key}"] = value
            results.append(row)
            print(" ".join(f"{k}={v:.2f}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()), flush=True)
    finally:
        for process in others:
            stop_process(process)
        stack.destroy()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cores", type=int, default=4, choices=range(1, 9))
    parser.add_argument("--calls", type=int, default=200, choices=range(10, 10_001), metavar="10..10000")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        measure(arguments.cores, arguments.calls, pathlib.Path(scratch))


if __name__ == "__main__":
    main()
