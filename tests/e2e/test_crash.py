"""SIGKILL the whole stack mid-load, restart on the same data: every call a client saw complete is
paid for, nothing is lost, and the ledger still balances.

On the per-call path every completed call also has its own usage record (its settle was durable
before the client got the last byte). On the lease path calls are reported after they answer, so
the last unreported batch is paid for by the lease's expiry, at its unreported remainder."""

from __future__ import annotations

import http.client
import json
import pathlib
import secrets
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.harness import FakeUpstream, Stack, wait_until
from tests.harness import http as http_call

MODEL = "fc:openai/gpt-4o-mini"
HOLD_TTL_S = 5
LOAD_THREADS = 8
LOAD_S = 1.5


@pytest.fixture(params=["sqlite-per_call", "sqlite-lease", "postgres-per_call", "postgres-lease"])
def crash_stack(request: pytest.FixtureRequest, tmp_path: pathlib.Path, upstream: FakeUpstream) -> Iterator[Stack]:
    backend, path = request.param.split("-")
    env = {"RINGSIDE_HOLD_TTL_S": str(HOLD_TTL_S), "RINGSIDE_LEASES": str(path == "lease").lower()}
    stack = Stack(backend, tmp_path / "data", upstream, extra_env=env)
    yield stack.start()
    stack.destroy()


@dataclass
class Completed:
    request_id: str
    cost_nano: int


def _cost_nano(usage: dict[str, int]) -> int:
    return -(-(usage["prompt_tokens"] * 150_000_000 + usage["completion_tokens"] * 600_000_000) // 1_000_000)


def _run_load_then_kill(stack: Stack, customer_id: str) -> list[Completed]:
    completed: list[Completed] = []
    stop = threading.Event()
    url = stack.base_url + "/v1/chat/completions"

    def load(worker: int) -> None:
        for index in range(10_000):  # bounded; the kill ends it much sooner
            if stop.is_set():
                return
            stream = index % 2 == 0
            body = {
                "model": MODEL,
                "max_tokens": 8,
                "stream": stream,
                "messages": [{"role": "user", "content": f"[[fake:slow=5]]w{worker} c{index}"}],
            }
            if stream:
                body["stream_options"] = {"include_usage": True}
            try:
                response = http_call(
                    "POST", url, stack.live_key, body, headers={"FC-Customer": customer_id}, timeout_s=10
                )
            except (OSError, http.client.HTTPException):
                continue  # the stack is gone: this call never completed for its client
            if response.status != 200:
                continue
            if stream:
                if not response.body.endswith(b"data: [DONE]\n\n"):
                    continue
                usage_frame = response.body.split(b"\n\n")[-3]
                usage = json.loads(usage_frame[len(b"data: ") :])["usage"]
            else:
                usage = response.json()["usage"]
            completed.append(Completed(response.headers["x-request-id"], _cost_nano(usage)))

    threads = [threading.Thread(target=load, args=(w,), daemon=True) for w in range(LOAD_THREADS)]
    for thread in threads:
        thread.start()
    time.sleep(LOAD_S)  # let load build up: the point is to kill it mid-flight
    stack.kill()
    stop.set()
    for thread in threads:
        thread.join(timeout=15)
    return completed


def test_sigkill_mid_load_loses_no_completed_call(crash_stack: Stack) -> None:
    stack = crash_stack
    customer = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "crash_" + secrets.token_hex(4)})
    customer_id = customer.json()["id"]
    completed = _run_load_then_kill(stack, customer_id)
    assert completed, "no call completed before the kill"

    stack.start()  # same data dir and database
    wait_until(lambda: stack.audit().open_holds == 0, HOLD_TTL_S * 4, "orphaned holds and leases to expire")
    audit = stack.audit()
    assert audit.ok, audit
    state = stack.call("GET", f"/v1/customers/{customer_id}", stack.live_key).json()
    spend_nano = int(Decimal(str(state["spend_usd_mtd"])).scaleb(9))
    assert spend_nano >= sum(call.cost_nano for call in completed), "completed calls went unpaid"

    ids = [call.request_id for call in completed]
    placeholders = ",".join("?" for _ in ids)
    rows = stack.query(f"SELECT request_id, posted_nano FROM usage_records WHERE request_id IN ({placeholders})", *ids)
    if stack.extra_env["RINGSIDE_LEASES"] == "false":
        recorded = {row[0] for row in rows}
        missing = [request_id for request_id in ids if request_id not in recorded]
        assert not missing, f"{len(missing)} completed calls have no usage record"
        assert all(row[1] > 0 for row in rows), "a completed call was recorded as free"
        assert state["request_count_mtd"] >= len(completed)
    else:
        # Calls reported before the kill have their own records; the rest are inside the expired
        # leases' postings (status lease_expired), which the spend check above counted.
        expired = stack.query("SELECT COUNT(*) FROM usage_records WHERE status = 'lease_expired'")[0][0]
        assert rows or expired
