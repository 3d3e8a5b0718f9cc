"""Benchmark servers as subprocesses: start, wait until they answer, stop, and read their CPU time.

CPU time comes from ``/proc`` (Linux) rather than psutil, which the project does not depend on.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Awaitable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")
REPO_ROOT = Path(__file__).resolve().parent.parent
_CLOCK_TICKS_PER_S = os.sysconf("SC_CLK_TCK")
_LOG_TAIL_BYTES = 2000


@dataclass(frozen=True)
class ServerSpec:
    """How to start one server. ``env`` is added to this process's environment."""

    name: str
    argv: tuple[str, ...]
    port: int
    log_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    cwd: Path = REPO_ROOT
    host: str = "127.0.0.1"
    ready_timeout_s: float = 20.0
    stop_timeout_s: float = 5.0


@dataclass(frozen=True)
class ServerProcess:
    """A started server; ``pid`` leads its own process group, so stopping it reaches its children."""

    spec: ServerSpec
    process: asyncio.subprocess.Process
    log_path: Path

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def url(self) -> str:
        return f"http://{self.spec.host}:{self.spec.port}"


class ServerFailedToStart(RuntimeError):
    """The server exited or did not open its port in time; the message ends with its log."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the usual small race is acceptable for benchmarks)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        port: int = probe.getsockname()[1]
        return port


def python_module_argv(module: str, *arguments: str) -> tuple[str, ...]:
    """argv running ``python -m module`` with this interpreter (the venv's)."""
    return (sys.executable, "-m", module, *arguments)


def _log_tail(path: Path) -> str:
    with contextlib.suppress(OSError):
        return path.read_bytes()[-_LOG_TAIL_BYTES:].decode(errors="replace")
    return ""


async def wait_for_port(host: str, port: int, timeout_s: float, process: asyncio.subprocess.Process) -> None:
    """Return once ``host:port`` accepts a TCP connection; raise if ``process`` dies or time runs out."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        if process.returncode is not None:
            raise ServerFailedToStart(f"exited with status {process.returncode}")
        try:
            _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout=1.0)
        except (OSError, TimeoutError):
            await asyncio.sleep(0.05)
            continue
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
        return
    raise ServerFailedToStart(f"port {port} did not open within {timeout_s} s")


async def wait_for_listeners(servers: Iterable[ServerProcess]) -> None:
    """Return once each server's own process listens on its port: several sharing one port
    (SO_REUSEPORT), the port answers as soon as the first does."""
    from ringside_cli.listening import listens  # here: a snapshot of an older commit has none

    loop = asyncio.get_running_loop()
    for server in servers:
        deadline = loop.time() + server.spec.ready_timeout_s
        while not listens(server.pid, server.spec.port):
            if loop.time() > deadline:
                raise ServerFailedToStart(f"{server.spec.name}: not listening on {server.spec.port} in time")
            await asyncio.sleep(0.1)


async def start_server(spec: ServerSpec) -> ServerProcess:
    """Start ``spec`` with output in ``<log_dir>/<name>.log`` and wait until its port answers."""
    spec.log_dir.mkdir(parents=True, exist_ok=True)
    log_path = spec.log_dir / f"{spec.name}.log"
    with log_path.open("wb") as log:
        process = await asyncio.create_subprocess_exec(
            *spec.argv,
            cwd=spec.cwd,
            env={**os.environ, **spec.env},
            stdin=asyncio.subprocess.DEVNULL,
            stdout=log,
            stderr=asyncio.subprocess.STDOUT,
            start_new_session=True,
        )
    server = ServerProcess(spec=spec, process=process, log_path=log_path)
    try:
        await wait_for_port(spec.host, spec.port, spec.ready_timeout_s, process)
    except ServerFailedToStart as failure:
        await stop_server(server)
        raise ServerFailedToStart(f"{spec.name}: {failure}\n--- log tail ---\n{_log_tail(log_path)}") from None
    return server


def _signal_group(pid: int, signal_number: int) -> None:
    # The server leads its own session (start_new_session), so its group id is its pid.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pid, signal_number)


async def stop_server(server: ServerProcess) -> None:
    """SIGTERM the server's process group, then SIGKILL it if it has not exited in time."""
    _signal_group(server.pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(server.process.wait(), timeout=server.spec.stop_timeout_s)
    except TimeoutError:
        _signal_group(server.pid, signal.SIGKILL)
        await asyncio.wait_for(server.process.wait(), timeout=server.spec.stop_timeout_s)
    # Children that ignored SIGTERM outlive their leader; make sure none is left behind.
    _signal_group(server.pid, signal.SIGKILL)


@contextlib.asynccontextmanager
async def serve(spec: ServerSpec) -> AsyncIterator[ServerProcess]:
    """Run a server for the duration of the block; it is stopped however the block ends."""
    server = await start_server(spec)
    try:
        yield server
    finally:
        await stop_server(server)


def _read_stat(pid: int) -> list[str] | None:
    """Fields of ``/proc/<pid>/stat`` after the command name (which may contain spaces and parens)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return raw[raw.rindex(")") + 2 :].split()


def process_tree(root_pids: Iterable[int]) -> set[int]:
    """``root_pids`` and all their living descendants."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        fields = _read_stat(int(entry.name))
        if fields is not None:
            children.setdefault(int(fields[1]), []).append(int(entry.name))
    tree: set[int] = set()
    pending = list(root_pids)
    while pending:
        pid = pending.pop()
        if pid not in tree:
            tree.add(pid)
            pending.extend(children.get(pid, ()))
    return tree


def cpu_seconds(root_pids: Iterable[int]) -> float:
    """User + system CPU seconds used so far by the processes and their descendants.

    Includes the time of descendants that already exited and were reaped (cutime/cstime), so worker
    processes that come and go are still counted.
    """
    ticks = 0
    for pid in process_tree(root_pids):
        fields = _read_stat(pid)
        if fields is not None:
            # After the name: state(0) ppid(1) ... utime(11) stime(12) cutime(13) cstime(14).
            ticks += sum(int(value) for value in fields[11:15])
    return ticks / _CLOCK_TICKS_PER_S


async def wait_idle(
    root_pids: Iterable[int], busy_fraction: float = 0.1, window_s: float = 0.5, timeout_s: float = 30.0
) -> bool:
    """Wait (at most ``timeout_s``) until the processes use less than ``busy_fraction`` of one CPU over a
    ``window_s`` window, so a backlog left by the previous load is not charged to the next one.

    Returns False when they were still busy at the deadline.
    """
    pids = list(root_pids)
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while True:
        before = cpu_seconds(pids)
        await asyncio.sleep(window_s)
        if cpu_seconds(pids) - before < busy_fraction * window_s:
            return True
        if loop.time() >= deadline:
            return False


def machine_busy_seconds() -> float:
    """CPU seconds the whole machine has spent busy (every CPU, every process) since boot, from /proc/stat.

    Compared with what the benchmark's own processes used, it shows how much else ran meanwhile.
    """
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()
    # cpu user nice system idle iowait irq softirq steal ...: busy is all but idle and iowait.
    user, nice, system, _idle, _iowait, irq, softirq, steal = (int(value) for value in fields[1:9])
    return (user + nice + system + irq + softirq + steal) / _CLOCK_TICKS_PER_S


async def stoppable(work: Awaitable[T]) -> T:
    """Await ``work``, cancelling it on SIGINT or SIGTERM so every server it started is stopped on the way out."""
    task = asyncio.current_task()
    assert task is not None
    loop = asyncio.get_running_loop()
    for signal_number in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signal_number, task.cancel)
    try:
        return await work
    finally:
        for signal_number in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signal_number)
