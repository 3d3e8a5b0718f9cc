"""Real processes on real sockets for the tests: the fake upstream and a Ringside stack.

A `Stack` is a core and an edge started with `python -m ringside core|edge` against SQLite (a file
in its data dir) or the machine's PostgreSQL (a fresh database per stack).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import pathlib
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any

import grpc
import psycopg

from ringside.core.v1 import system_pb2, system_pb2_grpc

ROOT = pathlib.Path(__file__).resolve().parent.parent
PG_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
ADMIN_KEY = "rsadmin_" + "t" * 32
# How long a process may take to start listening. Under CI load (2 cores, many stacks) a core's
# imports alone have taken over 15 s; this bound only matters when something is wrong, so it is wide.
START_TIMEOUT_S = 120.0


# The ports the tests' servers listen on come from ranges of their own below Linux's ephemeral range
# (32768-60999: where bind(0) and outgoing connections get theirs), one range per xdist worker
# (docs/testing.md "Running"), taken in turn: a port chosen here is never one that another worker, a
# server picking its own (Temporal's dev server) or a client's connection can take before it is
# listened on. The ranges are RANGE_STRIDE apart so that P + 1000 (Temporal's UI) stays outside all.
PORT_BASE = 20000
PORTS_PER_WORKER = 1000
RANGE_STRIDE = 3000
RANGES = 4  # -n 5 and more share ranges again (worker 4 with worker 0)
_port_turn = itertools.count(secrets.randbelow(PORTS_PER_WORKER))


def free_port() -> int:
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")  # gw0, gw1, ...; unset: one process
    index = int(worker[2:]) if worker[2:].isdigit() else 0
    base = PORT_BASE + (index % RANGES) * RANGE_STRIDE
    for _ in range(PORTS_PER_WORKER):
        port = base + next(_port_turn) % PORTS_PER_WORKER
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue  # in use (or in TIME_WAIT): the next one
            return port
    raise RuntimeError(f"no free port in {base}-{base + PORTS_PER_WORKER - 1}")


def wait_until(predicate: Any, timeout_s: float, what: str, interval_s: float = 0.05) -> Any:
    """Poll `predicate` until it returns something truthy (bounded by `timeout_s`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = predicate()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(interval_s)


def port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(
    method: str,
    url: str,
    key: str | None = None,
    body: Any = None,
    raw: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout_s: float = 30.0,
) -> Response:
    """One HTTP call; never raises for an error status."""
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if key:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return Response(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return Response(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


def start_process(args: list[str], env: dict[str, str], log_path: pathlib.Path) -> subprocess.Popen[bytes]:
    log = open(log_path, "ab")  # noqa: SIM115 - the child owns it for its lifetime
    return subprocess.Popen(args, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


def stop_process(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGTERM, timeout_s: float = 20) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(sig)
    try:
        process.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@dataclass
class FakeUpstream:
    port: int
    process: subprocess.Popen[bytes]
    api_key: str = "upstream-secret"

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def requests(self) -> list[dict[str, Any]]:
        return list(http("GET", f"http://127.0.0.1:{self.port}/_fake/requests").json())

    @classmethod
    def start(cls, log_dir: pathlib.Path, **options: str) -> FakeUpstream:
        port = free_port()
        args = [sys.executable, "-m", "tests.fakes.openai_upstream", "--port", str(port), "--api-key", cls.api_key]
        for name, value in options.items():
            args += [f"--{name.replace('_', '-')}", value]
        process = start_process(args, dict(os.environ), log_dir / f"fake-{port}.log")
        wait_until(lambda: port_open(port) or process.poll() is not None, START_TIMEOUT_S, "the fake upstream")
        assert process.poll() is None, "the fake upstream exited"
        return cls(port, process)


@dataclass
class FakeProvider:
    """A fake of a native provider's API (tests/fakes/<module>.py) in its own process."""

    port: int
    process: subprocess.Popen[bytes]
    api_key: str

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[dict[str, Any]]:
        return list(http("GET", f"{self.base_url}/_fake/requests").json())

    @classmethod
    def start(cls, module: str, api_key: str, log_dir: pathlib.Path) -> FakeProvider:
        port = free_port()
        args = [sys.executable, "-m", f"tests.fakes.{module}", "--port", str(port), "--api-key", api_key]
        process = start_process(args, dict(os.environ), log_dir / f"{module}-{port}.log")
        wait_until(lambda: port_open(port) or process.poll() is not None, START_TIMEOUT_S, f"the {module} fake")
        assert process.poll() is None, f"the {module} fake exited"
        return cls(port, process, api_key)


def create_postgres_database() -> str:
    name = "ringside_t_" + secrets.token_hex(6)
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    return f"postgresql://postgres@127.0.0.1:5432/{name}"


def drop_postgres_database(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass
class Stack:
    """A running core + edge (+ the rag role when `with_rag`). Keys come from the first start's
    credentials.json."""

    backend: str
    data_dir: pathlib.Path
    upstream: FakeUpstream | None
    extra_env: dict[str, str] = field(default_factory=dict)
    http_port: int = field(default_factory=free_port)
    grpc_port: int = field(default_factory=free_port)
    database_url: str = ""
    with_rag: bool = False
    rag_port: int = field(default_factory=free_port)
    core: subprocess.Popen[bytes] | None = None
    rag: subprocess.Popen[bytes] | None = None
    edge: subprocess.Popen[bytes] | None = None
    more_edges: list[subprocess.Popen[bytes]] = field(default_factory=list)
    internal_token: str = field(default_factory=lambda: "rsint_" + secrets.token_hex(16))

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("RINGSIDE_", "OPENAI_"))}
        env.update(
            {
                "RINGSIDE_DATA_DIR": str(self.data_dir),
                "RINGSIDE_HTTP_PORT": str(self.http_port),
                "RINGSIDE_GRPC_PORT": str(self.grpc_port),
                "RINGSIDE_ADMIN_KEY": ADMIN_KEY,
                "RINGSIDE_INTERNAL_TOKEN": self.internal_token,
                "RINGSIDE_HEALTH_ROLES": "core,edge,rag" if self.with_rag else "core,edge",
                "RINGSIDE_RAG_PORT": str(self.rag_port),
                "RINGSIDE_RAG_THREADS": "1",
                "RINGSIDE_UPSTREAM_TIMEOUT_S": "3",
                "RINGSIDE_LOG_LEVEL": "WARNING",
            }
        )
        if self.database_url:
            env["RINGSIDE_DATABASE_URL"] = self.database_url
        if self.upstream is not None:
            env["OPENAI_BASE_URL"] = self.upstream.base_url
            env["OPENAI_API_KEY"] = self.upstream.api_key
        env.update(self.extra_env)
        return env

    def start(self) -> Stack:
        created_database = self.backend == "postgres" and not self.database_url
        if created_database:
            self.database_url = create_postgres_database()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        try:
            self.start_core()
            if self.with_rag:
                self.start_rag()
            self.restart_edge()
        except BaseException:
            # A role that did not come up in time must not outlive the test: orphaned cores left by
            # failed starts kept loading the machine and made the next starts slower still.
            if created_database:
                self.destroy()
            else:
                self.stop()
            raise
        return self

    def start_core(self) -> None:
        """Start the core (again, after `kill_role`), on the same port and data."""
        core = start_process([sys.executable, "-m", "ringside_cli", "core"], self.env, self.data_dir / "core.log")
        self.core = core
        wait_until(lambda: port_open(self.grpc_port) or core.poll() is not None, START_TIMEOUT_S, "the core")
        assert core.poll() is None, self.log("core")

    def restart_edge(self) -> None:
        """Start the edge again (after `kill_role("edge")`), on the same port."""
        self.edge = start_process([sys.executable, "-m", "ringside_cli", "edge"], self.env, self.data_dir / "edge.log")
        wait_until(self._healthy, START_TIMEOUT_S, "the edge's /healthz")

    def kill_role(self, role: str) -> None:
        """SIGKILL one role ("core" or "edge"): no drain, no flush."""
        process = self.core if role == "core" else self.edge
        if process is not None and process.poll() is None:
            process.kill()
            process.wait()

    def start_rag(self) -> None:
        """The rag role (`ringside rag serve`), listening once its model is loaded."""
        rag = start_process([sys.executable, "-m", "ringside_cli", "rag", "serve"], self.env, self.data_dir / "rag.log")
        self.rag = rag
        wait_until(lambda: port_open(self.rag_port) or rag.poll() is not None, START_TIMEOUT_S, "the rag role")
        assert rag.poll() is None, self.log("rag")

    def start_edge(self) -> str:
        """Another edge against the same core (as behind a load balancer); returns its base URL."""
        port = free_port()
        env = {**self.env, "RINGSIDE_HTTP_PORT": str(port)}
        log = self.data_dir / f"edge-{port}.log"
        process = start_process([sys.executable, "-m", "ringside_cli", "edge"], env, log)
        self.more_edges.append(process)
        base_url = f"http://127.0.0.1:{port}"

        def healthy() -> bool:
            assert process.poll() is None, log.read_text(errors="replace")[-4000:]
            return port_open(port) and http("GET", base_url + "/healthz").status == 200

        wait_until(healthy, START_TIMEOUT_S, "the second edge's /healthz")
        return base_url

    def _healthy(self) -> bool:
        assert self.edge is not None and self.edge.poll() is None, self.log("edge")
        return port_open(self.http_port) and http("GET", self.base_url + "/healthz").status == 200

    def log(self, role: str) -> str:
        path = self.data_dir / f"{role}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        for process in self.more_edges:
            stop_process(process)
        self.more_edges.clear()
        stop_process(self.edge)
        stop_process(self.rag)
        stop_process(self.core)

    def kill(self) -> None:
        """SIGKILL both roles at once: no drain, no flush."""
        for process in (self.edge, self.core):
            if process is not None and process.poll() is None:
                process.kill()
        for process in (self.edge, self.core):
            if process is not None:
                process.wait()

    def destroy(self) -> None:
        self.stop()
        if self.backend == "postgres" and self.database_url:
            drop_postgres_database(self.database_url)

    @property
    def credentials(self) -> dict[str, str]:
        return dict(json.loads((self.data_dir / "credentials.json").read_text()))

    @property
    def live_key(self) -> str:
        return self.credentials["api_key"]

    @property
    def test_key(self) -> str:
        return self.credentials["test_api_key"]

    def call(self, method: str, path: str, key: str | None = None, body: Any = None, **kwargs: Any) -> Response:
        return http(method, self.base_url + path, key, body, **kwargs)

    def audit(self) -> system_pb2.VerifyLedgerResponse:
        with grpc.insecure_channel(f"127.0.0.1:{self.grpc_port}") as channel:
            stub = system_pb2_grpc.SystemServiceStub(channel)
            response: system_pb2.VerifyLedgerResponse = stub.VerifyLedger(
                system_pb2.VerifyLedgerRequest(), metadata=(("x-ringside-internal", self.internal_token),), timeout=60
            )
            return response

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """Read the core's database directly (tests only)."""
        if self.backend == "postgres":
            with psycopg.connect(self.database_url) as connection:
                return [tuple(row) for row in connection.execute(sql.replace("?", "%s"), params).fetchall()]
        import sqlite3

        with contextlib.closing(sqlite3.connect(self.data_dir / "ringside.db", timeout=30)) as connection:
            return [tuple(row) for row in connection.execute(sql, params).fetchall()]

    def open_sealed(self, stored: str, column: str) -> str:
        """A secret as the core stores it (sealed, core/store/sealing.py), opened with the data
        dir's key (tests only)."""
        from core.store.sealing import Sealer

        key = self.extra_env.get("RINGSIDE_SECRET_KEY") or (self.data_dir / "secret_key").read_text().strip()
        return Sealer([key]).open(stored, column)

    def new_account(self, ip: str = "") -> dict[str, Any]:
        """A second account (tenant) through the admin API; returns its keys by mode. `ip`: sent
        as X-Forwarded-For (counted against that IP's limit when the edge trusts the test's)."""
        headers = {"X-Forwarded-For": ip} if ip else None
        response = self.call("POST", "/v1/accounts", ADMIN_KEY, {"name": "other"}, headers=headers)
        assert response.status == 201, response.body
        account = response.json()
        keys = {("live" if k["livemode"] else "test"): k["secret"] for k in account["api_keys"]}
        return {"id": account["id"], **keys}
