"""Whether one process listens on a TCP port, from /proc (Linux).

Several edge processes share one port (SO_REUSEPORT): a connection to it answers as soon as the
first of them listens, so it cannot tell whether a given one has started. Its own sockets can.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

TCP_LISTEN = "0A"  # the state column of /proc/net/tcp{,6}


def _listening_inodes(port: int) -> set[str]:
    """The socket inodes listening on `port` (any address), in this network namespace."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            fields = line.split()
            # sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
            if len(fields) > 9 and fields[3] == TCP_LISTEN and int(fields[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(fields[9])
    return inodes


def listens(pid: int, port: int) -> bool:
    """True once process `pid` holds a socket listening on `port`."""
    wanted = _listening_inodes(port)
    if not wanted:
        return False
    try:
        descriptors = os.listdir(f"/proc/{pid}/fd")
    except OSError:
        return False  # gone, or not ours to look at
    for descriptor in descriptors:
        try:
            target = os.readlink(f"/proc/{pid}/fd/{descriptor}")
        except OSError:
            continue  # closed meanwhile
        if target.startswith("socket:[") and target[8:-1] in wanted:
            return True
    return False


def wait_for_listener(
    name: str,
    process: subprocess.Popen[bytes] | None,
    port: int,
    timeout_s: float,
    stopping: Callable[[], bool],
    where: str,
) -> None:
    """Until `process` itself listens on `port` (which others may already answer on); `ringside up`
    stops with a clear line if it exits first or takes longer than `timeout_s`."""
    assert process is not None
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not stopping():
        if process.poll() is not None:
            raise SystemExit(f"ringside up: {name} exited with code {process.returncode} while starting{where}")
        if listens(process.pid, port):
            return
        time.sleep(0.1)
    if not stopping():
        raise SystemExit(f"ringside up: {name} did not listen on port {port} within {timeout_s:.0f} s{where}")
