"""Hostile clients against one edge (issue 15, items 3 and 4), measured, never asserted:

1. the edge's RSS (now and peak) before and after 8 anonymous 30 MB posts sent at once (authentication before the
   body: they get their 401 and the edge never buffers them);
2. N connections trickling their headers one byte every 100 ms: how many normal calls succeed
   meanwhile (and their p50/p99), and how long until the edge has closed every trickler.

Run: ``python -m bench.hostile [--tricklers 1000]``. Starts a SQLite stack with the default timeouts
unless told otherwise (``--header-timeout-s``).
"""

from __future__ import annotations

import argparse
import concurrent.futures
import pathlib
import socket
import statistics
import tempfile
import threading
import time

from tests.harness import FakeUpstream, Stack


def rss_mib(pid: int, field: str = "VmRSS") -> float:
    """Resident memory now (VmRSS) or at its peak so far (VmHWM): a body buffered and freed again
    shows only in the peak."""
    for line in pathlib.Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def anonymous_post(port: int, size: int) -> str:
    chunk = b"{" * (1 << 20)
    with socket.create_connection(("127.0.0.1", port), timeout=60) as connection:
        connection.sendall(f"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {size}\r\n\r\n".encode())
        sent = 0
        try:
            while sent < size:
                connection.sendall(chunk[: size - sent])
                sent += len(chunk)
        except OSError:
            pass  # the edge answered and closed: what we hope for
        try:
            return connection.recv(200).split(b"\r\n", 1)[0].decode()
        except OSError as error:
            return type(error).__name__


def big_posts(stack: Stack, count: int, size: int) -> dict[str, object]:
    assert stack.edge is not None
    before, peak_before = rss_mib(stack.edge.pid), rss_mib(stack.edge.pid, "VmHWM")
    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        answers = list(pool.map(lambda _: anonymous_post(stack.http_port, size), range(count)))
    time.sleep(0.5)
    after, peak_after = rss_mib(stack.edge.pid), rss_mib(stack.edge.pid, "VmHWM")
    return {
        "posts": count,
        "bytes_each": size,
        "rss_mib": (before, after),
        "peak_rss_mib": (peak_before, peak_after),
        "answers": sorted(set(answers)),
    }


def trickle(stack: Stack, count: int, calls: int) -> dict[str, object]:
    sockets = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", stack.http_port), timeout=10)
        connection.sendall(b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        connection.setblocking(False)
        sockets.append(connection)
    started = time.monotonic()
    stop = threading.Event()
    open_ones = set(range(count))
    closed_at: list[float] = []

    def drip() -> None:
        while not stop.wait(0.1):
            for index in list(open_ones):
                try:
                    sockets[index].send(b"x")
                    if sockets[index].recv(1) == b"":
                        raise ConnectionError
                except (BlockingIOError, TimeoutError):
                    continue
                except OSError:
                    open_ones.discard(index)
                    closed_at.append(time.monotonic() - started)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    latencies, ok = [], 0
    for _ in range(calls):
        began = time.monotonic()
        status = stack.call("GET", "/v1/customers", stack.live_key).status
        latencies.append((time.monotonic() - began) * 1000)
        ok += status == 200
    deadline = time.monotonic() + 120
    while open_ones and time.monotonic() < deadline:
        time.sleep(0.1)
    stop.set()
    thread.join()
    for connection in sockets:
        connection.close()
    latencies.sort()
    return {
        "tricklers": count,
        "calls_ok": f"{ok}/{calls}",
        "call_p50_ms": round(statistics.median(latencies), 1),
        "call_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1], 1),
        "still_open": len(open_ones),
        "all_closed_after_s": round(max(closed_at), 2) if closed_at else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tricklers", type=int, default=1000)
    parser.add_argument("--calls", type=int, default=200)
    parser.add_argument("--header-timeout-s", type=float, default=10.0)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        path = pathlib.Path(directory)
        upstream = FakeUpstream.start(path)
        env = {"RINGSIDE_HEADER_READ_TIMEOUT_S": str(arguments.header_timeout_s)}
        stack = Stack("sqlite", path / "stack", upstream, extra_env=env).start()
        try:
            print(big_posts(stack, 8, 30_000_000))
            print(trickle(stack, arguments.tricklers, arguments.calls))
        finally:
            stack.destroy()
            upstream.process.terminate()


if __name__ == "__main__":
    main()
