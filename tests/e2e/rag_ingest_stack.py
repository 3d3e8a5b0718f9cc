"""A Ringside stack for managed RAG's ingest: a Temporal dev server, the core, the rag role (which
runs the ingest workflows on its own task queue) and the edge; optionally the worker (webhooks). And
what the ingest tests ask of it: an upload, a store file once settled, a search."""

from __future__ import annotations

import contextlib
import pathlib
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import grpc
import openai
import psycopg
import pytest

from ringside.core.v1 import system_pb2, system_pb2_grpc
from tests.conftest import backend_of
from tests.harness import START_TIMEOUT_S, Stack, free_port, port_open, start_process, stop_process, wait_until

TEMPORAL_CLI = pathlib.Path(sys.executable).parent / "temporal"
QUIET = ("--log-level", "warn")
INGEST_DEADLINE_S = 120.0


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
def ingest_stack(
    backend: str,
    work: pathlib.Path,
    extra_env: dict[str, str] | None = None,
    more_env: Callable[[Stack], dict[str, str]] | None = None,
) -> Iterator[Stack]:
    """`more_env`: settings that name the stack's own ports (its core as one of several)."""
    temporal, port = start_temporal(work)
    env = {"RINGSIDE_TEMPORAL_ADDRESS": f"127.0.0.1:{port}", "RINGSIDE_MAX_FILE_BYTES": str(4 * 1024 * 1024)}
    stack = Stack(backend, work / "stack", None, extra_env={**env, **(extra_env or {})}, with_rag=True)
    if more_env is not None:
        stack.extra_env.update(more_env(stack))
    try:
        yield stack.start()
    finally:
        stack.destroy()
        stop_process(temporal)


def execute(stack: Stack, sql: str, *params: object) -> None:
    """Change the core's database behind its back (tests only), committed."""
    if stack.backend == "postgres":
        with psycopg.connect(stack.database_url) as connection:
            connection.execute(sql.replace("?", "%s"), params)
        return
    with contextlib.closing(sqlite3.connect(stack.data_dir / "ringside.db", timeout=30)) as connection:
        connection.execute(sql, params)
        connection.commit()


def purge_expired(stack: Stack) -> None:
    """What the worker's retention schedule asks of the core, asked directly."""
    with grpc.insecure_channel(f"127.0.0.1:{stack.grpc_port}") as channel:
        stub = system_pb2_grpc.SystemServiceStub(channel)
        stub.PurgeExpired(
            system_pb2.PurgeExpiredRequest(), metadata=(("x-ringside-internal", stack.internal_token),), timeout=60
        )


def shared_ingest_stack(request: pytest.FixtureRequest) -> Stack:
    """The session's ingest stack on `backend_of(request)` (tests/e2e/conftest.py), for a test module's
    `stack` fixture: the files using it run in one process (tests/scheduling.py), so it starts once."""
    running: Stack = request.getfixturevalue(f"{backend_of(request)}_ingest_stack")
    return running


def settled(sdk: openai.OpenAI, store_id: str, file_id: str, **extra: Any) -> Any:
    """The store file once its ingest has finished (polled, as a client would)."""
    deadline = time.monotonic() + INGEST_DEADLINE_S
    while True:
        found = sdk.vector_stores.files.retrieve(file_id, vector_store_id=store_id, **extra)
        if found.status != "in_progress" or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def upload(sdk: openai.OpenAI, name: str, content: bytes, **extra: Any) -> str:
    return sdk.files.create(file=(name, content), purpose="assistants", **extra).id


def search(stack: Stack, key: str, store_id: str, body: dict[str, Any], **headers: str) -> Any:
    return stack.call("POST", f"/v1/vector_stores/{store_id}/search", key, body, headers=headers)
