"""A Ringside stack for managed RAG's ingest: a Temporal dev server, the core, the rag role (which
runs the ingest workflows on its own task queue) and the edge; optionally the worker (webhooks)."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from tests.harness import START_TIMEOUT_S, Stack, free_port, port_open, start_process, stop_process, wait_until

TEMPORAL_CLI = pathlib.Path(sys.executable).parent / "temporal"
QUIET = ("--log-level", "warn")


def start_temporal(work: pathlib.Path) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    process = start_process(
        [str(TEMPORAL_CLI), "server", "start-dev", "--headless", "--ip", "127.0.0.1", "--port", str(port), *QUIET],
        {},
        work / "temporal.log",
    )
    wait_until(lambda: port_open(port), START_TIMEOUT_S, "the Temporal dev server")
    return process, port


@contextmanager
def ingest_stack(backend: str, work: pathlib.Path, extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    temporal, port = start_temporal(work)
    env = {"RINGSIDE_TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "RINGSIDE_MAX_FILE_BYTES": str(4 * 1024 * 1024)}
    stack = Stack(backend, work / "stack", None, extra_env={**env, **(extra_env or {})}, with_rag=True)
    try:
        yield stack.start()
    finally:
        stack.destroy()
        stop_process(temporal)
