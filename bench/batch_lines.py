"""A batch end to end: from POST /v1/batches to `completed`, and what each line costs the worker and
the core in CPU time.

    python -m bench.batch_lines [--lines 500] [--concurrency 4] [--backend sqlite|postgres] [--live]

Starts the stack the batch tests use (Temporal dev server, core, edge, worker, the fake OpenAI with
no latency; tests/workers/batch_stack.py), submits `lines` chat lines (under the test key: the test
model; with --live: the fake OpenAI), polls to completion and prints seconds, lines/s, and the
worker's and core's CPU milliseconds per line (psutil, user + system, over the run). Each line is a
metered call (Authorize, the call, Settle) plus two fsynced journal records and its request-log row.
"""

from __future__ import annotations

import argparse
import pathlib
import tempfile
import time

import psutil

from tests.workers.batch_stack import batch_stack, chat_line, finished, new_customer, sdk, submit


def cpu_s(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=500)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--backend", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--live", action="store_true", help="lines go to the fake OpenAI (else: the test model)")
    args = parser.parse_args()
    work = pathlib.Path(tempfile.mkdtemp(prefix="bench-batch-"))
    with batch_stack(args.backend, work, latency_ms="0", concurrency=str(args.concurrency)) as hooks:
        key = hooks.stack.live_key if args.live else hooks.stack.test_key
        client = sdk(hooks, key, new_customer(hooks, key, budget_usd=100))
        assert hooks.worker is not None and hooks.stack.core is not None
        worker, core = psutil.Process(hooks.worker.pid), psutil.Process(hooks.stack.core.pid)
        finished(client, submit(client, [chat_line("warm-up")]).id)
        worker_before, core_before, started = cpu_s(worker), cpu_s(core), time.monotonic()
        batch = submit(client, [chat_line(f"b{n}", f"question {n}") for n in range(args.lines)])
        done = finished(client, batch.id)
        seconds = time.monotonic() - started
        worker_ms = (cpu_s(worker) - worker_before) * 1000 / args.lines
        core_ms = (cpu_s(core) - core_before) * 1000 / args.lines
        counts = done.request_counts
        print(
            f"{done.status}: {counts.completed} answered, {counts.failed} failed of {args.lines} lines in "
            f"{seconds:.1f} s = {args.lines / seconds:.0f} lines/s; CPU per line: worker {worker_ms:.2f} ms, "
            f"core {core_ms:.2f} ms ({args.backend}, concurrency {args.concurrency}, "
            f"{'fake OpenAI' if args.live else 'test model'}; load average {psutil.getloadavg()[0]:.1f})"
        )


if __name__ == "__main__":
    main()
