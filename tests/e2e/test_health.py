"""The edge's probes (API.md "Health and metrics"): /livez answers while the process runs; /readyz
only once a core has answered, and 503 from SIGTERM on while in-flight calls drain."""

from __future__ import annotations

import contextlib
import pathlib
import signal
import sys
import threading
from http.client import HTTPConnection, HTTPException

from tests.harness import (
    START_TIMEOUT_S,
    FakeUpstream,
    Stack,
    free_port,
    http,
    port_open,
    start_process,
    stop_process,
    wait_until,
)


def test_livez_and_readyz_answer_without_a_key(stack: Stack) -> None:
    live = http("GET", stack.base_url + "/livez")
    assert live.status == 200 and live.json() == {"status": "alive"}
    ready = http("GET", stack.base_url + "/readyz")
    assert ready.status == 200 and ready.json() == {"status": "ready"}


def test_readyz_is_503_without_a_core_and_while_draining(tmp_path: pathlib.Path, upstream: FakeUpstream) -> None:
    stack = Stack("sqlite", tmp_path, upstream).start()
    try:
        stop_process(stack.core)
        port = free_port()  # a new edge that has never reached a core
        edge = start_process(
            [sys.executable, "-m", "ringside_cli", "edge"],
            {**stack.env, "RINGSIDE_HTTP_PORT": str(port)},
            tmp_path / "lone-edge.log",
        )
        stack.more_edges.append(edge)
        wait_until(lambda: port_open(port), START_TIMEOUT_S, "the lone edge")
        fresh = f"http://127.0.0.1:{port}"
        assert http("GET", fresh + "/livez").status == 200
        unready = http("GET", fresh + "/readyz")
        assert unready.status == 503 and unready.json() == {"status": "core_unreachable"}
        # the first edge reached the core before it went away: a core outage does not unready it
        assert http("GET", stack.base_url + "/readyz").status == 200
    finally:
        stack.stop()

    stack = Stack("sqlite", tmp_path / "draining", upstream, {"RINGSIDE_READINESS_GRACE_S": "3"}).start()
    try:
        slow = {
            "model": "fc:openai/gpt-4o-mini",
            "max_tokens": 8,
            "messages": [{"role": "user", "content": "[[fake:slow=250]] keep the edge draining"}],
        }
        answers: list[int] = []
        in_flight = threading.Thread(
            target=lambda: answers.append(stack.call("POST", "/v1/chat/completions", stack.live_key, slow).status),
            daemon=True,
        )
        connection = HTTPConnection("127.0.0.1", stack.http_port, timeout=10)
        connection.request("GET", "/readyz")  # a kept-alive connection, as a probe's
        assert connection.getresponse().read() == b'{"status":"ready"}'
        in_flight.start()
        wait_until(lambda: any("keep the edge draining" in str(r) for r in upstream.requests()), 10, "the call")
        assert stack.edge is not None
        stack.edge.send_signal(signal.SIGTERM)

        def draining() -> bool:
            with contextlib.suppress(OSError, HTTPException):
                connection.request("GET", "/readyz")
                answer = connection.getresponse()
                body = answer.read()  # always read: the connection is reused
                return answer.status == 503 and body == b'{"status":"draining"}'
            return False

        wait_until(draining, 10, "the draining edge's /readyz to say so")
        in_flight.join(timeout=30)
        assert answers == [200]  # the call in flight at SIGTERM was answered, not cut
    finally:
        stack.stop()
