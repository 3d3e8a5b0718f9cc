"""SIGTERM with calls in flight (issue 15 item 7, DECISIONS.md 15): the edge lets them drain for
RINGSIDE_DRAIN_TIMEOUT_S, then cuts what is left — settled as aborted, never left open — and stops.

The bound is the drain plus a margin (settling, closing leases, the interpreter's exit): never a
timing tighter than the setting. The drain is long against that margin so that the old stop, which
waited a second drain for a call that did not end, cannot pass."""

from __future__ import annotations

import pathlib
import signal
import threading
import time
from typing import Any

import requests

from tests.harness import FakeUpstream, Stack, wait_until

DRAIN_S = 8.0
MARGIN_S = 6.0  # settling the cut call, closing leases, the interpreter's exit, on a loaded machine


def _chat(stack: Stack, content: str, stream: bool) -> dict[str, Any]:
    """One call's outcome: its status and body, or the error that ended it."""
    outcome: dict[str, Any] = {}
    try:
        answer = requests.post(
            stack.base_url + "/v1/chat/completions",
            headers={"Authorization": f"Bearer {stack.live_key}", "FC-Customer": "ext:draining"},
            json={
                "model": "fc:openai/gpt-4o-mini",
                "stream": stream,
                "messages": [{"role": "user", "content": content}],
            },
            stream=stream,
            timeout=120,
        )
        outcome["status"], outcome["body"] = answer.status_code, b"".join(answer.iter_content(None))
    except requests.RequestException as error:
        outcome["error"] = error
    return outcome


def test_sigterm_drains_calls_then_cuts_the_rest_as_aborted_within_the_drain(
    tmp_path: pathlib.Path, upstream: FakeUpstream
) -> None:
    settings = {"RINGSIDE_DRAIN_TIMEOUT_S": str(DRAIN_S), "RINGSIDE_UPSTREAM_TIMEOUT_S": "600"}
    stack = Stack("sqlite", tmp_path / "stopping", upstream, settings).start()
    try:
        assert stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "draining"}).status == 201
        outcomes: dict[str, dict[str, Any]] = {}
        calls = {
            "stalled": ("[[fake:stall]] never answers", False),  # still waiting at the drain's end
            "streamed": ("[[fake:slow=150]] ends within the drain", True),
        }
        threads = [
            threading.Thread(target=lambda n=name, c=call: outcomes.update({n: _chat(stack, *c)}), daemon=True)
            for name, call in calls.items()
        ]
        for thread in threads:
            thread.start()
        wait_until(
            lambda: sum("within the drain" in str(r) or "never answers" in str(r) for r in upstream.requests()) == 2,
            30,
            "both calls upstream",
        )
        assert stack.edge is not None
        signalled = time.monotonic()
        stack.edge.send_signal(signal.SIGTERM)
        stack.edge.wait(timeout=2 * DRAIN_S + 30)
        took_s = time.monotonic() - signalled
        for thread in threads:
            thread.join(timeout=30)

        assert took_s < DRAIN_S + MARGIN_S, f"the edge stopped {took_s:.1f} s after SIGTERM (drain {DRAIN_S} s)"
        assert outcomes["streamed"]["status"] == 200 and outcomes["streamed"]["body"].endswith(b"data: [DONE]\n\n")
        assert "error" in outcomes["stalled"]  # cut: its connection closed with no answer

        stack.restart_edge()
        rows = stack.call("GET", "/v1/requests?customer_id=ext:draining", stack.live_key).json()["data"]
        assert len(rows) == 2, rows
        # both settled by their call (none left to the hold's expiry); the cut one as aborted
        assert {row["settled_by"] for row in rows} == {"call"}, rows
        assert stack.audit().ok

        # the other roles of this stack stop within the same bound
        for role in (stack.edge, stack.core):
            assert role is not None
            signalled = time.monotonic()
            role.send_signal(signal.SIGTERM)
            role.wait(timeout=2 * DRAIN_S + 30)
            assert time.monotonic() - signalled < DRAIN_S + MARGIN_S
    finally:
        stack.destroy()
