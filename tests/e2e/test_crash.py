"""SIGKILL the whole stack mid-load, restart on the same data: every call a client saw complete is
paid for and counted, nothing is lost, and the ledger still balances."""

from __future__ import annotations

import http.client
import pathlib
import secrets
import threading
import time
from collections.abc import Iterator

import pytest

from tests.harness import FakeUpstream, Stack, wait_until
from tests.harness import http as http_call

MODEL = "fc:openai/gpt-4o-mini"
HOLD_TTL_S = 5
LOAD_THREADS = 8
LOAD_S = 1.5


@pytest.fixture(params=["sqlite", "postgres"])
def crash_stack(request: pytest.FixtureRequest, tmp_path: pathlib.Path, upstream: FakeUpstream) -> Iterator[Stack]:
    stack = Stack(request.param, tmp_path / "data", upstream, extra_env={"RINGSIDE_HOLD_TTL_S": str(HOLD_TTL_S)})
    yield stack.start()
    stack.destroy()


def test_sigkill_mid_load_loses_no_completed_call(crash_stack: Stack) -> None:
    stack = crash_stack
    customer = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "crash_" + secrets.token_hex(4)})
    customer_id = customer.json()["id"]
    completed: list[str] = []
    stop = threading.Event()
    url = stack.base_url + "/v1/chat/completions"

    def load(worker: int) -> None:
        for index in range(10_000):  # bounded; the kill ends it much sooner
            if stop.is_set():
                return
            body = {
                "model": MODEL,
                "max_tokens": 8,
                "stream": index % 2 == 0,
                "messages": [{"role": "user", "content": f"[[fake:slow=5]]w{worker} c{index}"}],
            }
            try:
                response = http_call(
                    "POST", url, stack.live_key, body, headers={"FC-Customer": customer_id}, timeout_s=10
                )
            except (OSError, http.client.HTTPException):
                continue  # the stack is gone: this call never completed for its client
            if response.status == 200 and (not body["stream"] or response.body.endswith(b"data: [DONE]\n\n")):
                completed.append(response.headers["x-request-id"])

    threads = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_S)  # let load build up: the point is to kill it mid-flight
    stack.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    assert completed, "no call completed before the kill"

    stack.start()  # same data dir and database
    wait_until(lambda: stack.audit().open_holds == 0, HOLD_TTL_S * 4, "orphaned holds to expire")
    audit = stack.audit()
    assert audit.ok, audit
    placeholders = ",".join("?" for _ in completed)
    rows = stack.query(
        f"SELECT request_id, status, posted_nano FROM usage_records WHERE request_id IN ({placeholders})", *completed
    )
    recorded = {row[0]: row for row in rows}
    missing = [request_id for request_id in completed if request_id not in recorded]
    assert not missing, f"{len(missing)} completed calls have no usage record"
    assert all(row[2] > 0 for row in rows), "a completed call was recorded as free"
    state = stack.call("GET", f"/v1/customers/{customer_id}", stack.live_key).json()
    assert state["request_count_mtd"] >= len(completed)
