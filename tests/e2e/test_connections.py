"""Connections (issue 15, item 4): clients that trickle their headers or body are closed once the
read timeouts pass, without stopping anyone else's calls; the timeouts never cut a slow upstream or
a streamed answer; past the per-IP cap a connection is closed as it opens.

One edge with short timeouts (1 s) and a small per-IP cap, on SQLite: connection handling is the
edge's alone. The figures at full scale (1,000 tricklers) are bench/, see docs/security.md.
"""

from __future__ import annotations

import contextlib
import pathlib
import socket
import threading
from collections.abc import Iterator

import openai
import pytest

from tests.harness import FakeUpstream, Stack, wait_until

TRICKLERS = 40
PER_IP_CAP = TRICKLERS + 20
TIMEOUT_S = 1.0


@pytest.fixture(scope="module")
def edge(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    settings = {
        "RINGSIDE_HEADER_READ_TIMEOUT_S": str(TIMEOUT_S),
        "RINGSIDE_BODY_READ_TIMEOUT_S": str(TIMEOUT_S),
        "RINGSIDE_KEEPALIVE_TIMEOUT_S": str(TIMEOUT_S),
        "RINGSIDE_MAX_CONNECTIONS_PER_IP": str(PER_IP_CAP),
    }
    path: pathlib.Path = tmp_path_factory.mktemp("stack-connections")
    running = Stack("sqlite", path, upstream, extra_env=settings).start()
    yield running
    running.destroy()


def closed_by_server(connection: socket.socket) -> bool:
    try:
        return connection.recv(65536) == b""
    except ConnectionError:
        return True
    except (BlockingIOError, TimeoutError):
        return False


class Trickler:
    """Sockets that each send one byte of their request every 100 ms and never finish it."""

    def __init__(self, stack: Stack, count: int, head: bytes) -> None:
        self.sockets = [socket.create_connection(("127.0.0.1", stack.http_port), timeout=5) for _ in range(count)]
        for connection in self.sockets:
            connection.sendall(head)
            connection.setblocking(False)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)
        self.thread.start()

    def _trickle(self) -> None:
        while not self.stop.wait(0.1):
            for connection in self.sockets:
                with contextlib.suppress(OSError):  # closed by the edge: what the test waits for
                    connection.send(b"x")

    def all_closed(self) -> bool:
        return all(closed_by_server(connection) for connection in self.sockets)

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for connection in self.sockets:
            connection.close()


@pytest.mark.parametrize(
    "head",
    [
        b"GET /v1/customers HTTP/1.1\r\nHost: x\r\nX-Slow: ",  # headers never end
        b"POST /v1/customers HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{",  # nor does the body
    ],
    ids=["headers", "body"],
)
def test_trickling_connections_do_not_stop_calls_and_are_closed_once_the_read_timeout_passes(
    edge: Stack, head: bytes
) -> None:
    trickler = Trickler(edge, TRICKLERS, head)
    try:
        for _ in range(5):  # everyone else is served meanwhile
            assert edge.call("GET", "/v1/customers", edge.live_key).status == 200
        wait_until(trickler.all_closed, 30 * TIMEOUT_S, "the edge closing every trickling connection")
        assert edge.call("GET", "/v1/customers", edge.live_key).status == 200
    finally:
        trickler.close()


def test_a_slow_streamed_answer_outlives_the_read_timeouts(edge: Stack) -> None:
    """Neither clock runs while the upstream thinks or a stream is written (DECISIONS.md 15)."""
    client = openai.OpenAI(api_key=edge.test_key, base_url=edge.base_url + "/v1", max_retries=0)
    chat = client.chat.completions.create(
        model="fc:openai/gpt-4o-mini", messages=[{"role": "user", "content": "hi"}], max_tokens=5
    )
    assert chat.choices[0].message.content
    live = openai.OpenAI(api_key=edge.live_key, base_url=edge.base_url + "/v1", max_retries=0)
    stream = live.chat.completions.create(
        model="fc:openai/gpt-4o-mini",
        stream=True,
        max_tokens=12,
        messages=[{"role": "user", "content": "[[fake:slow=300]]take your time"}],  # ~3.6 s > 1 s
    )
    tokens = sum(1 for chunk in stream if chunk.choices and chunk.choices[0].delta.content)
    assert tokens == 12


def test_past_the_per_ip_cap_a_connection_is_closed_as_it_opens(edge: Stack) -> None:
    held = [socket.create_connection(("127.0.0.1", edge.http_port), timeout=5) for _ in range(PER_IP_CAP)]
    try:
        extra = socket.create_connection(("127.0.0.1", edge.http_port), timeout=5)
        extra.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        extra.settimeout(5)
        assert closed_by_server(extra)
        extra.close()
    finally:
        for connection in held:
            connection.close()
    wait_until(lambda: edge.call("GET", "/healthz").status == 200, 10, "the edge serving again once they close")
