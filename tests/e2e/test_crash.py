"""SIGKILL the whole stack mid-load, restart on the same data: every call a client saw complete is
paid for, nothing is lost, and the ledger still balances.

On the per-call path every completed call also has its own usage record (its settle was durable
before the client got the last byte). On the lease path calls are reported after they answer: a
call reported admitted and not finished is posted at its estimate when its lease expires, and the
lease's other slots are released."""

from __future__ import annotations

import http.client
import json
import secrets
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal

import pytest

from tests.core_api import CoreApi
from tests.e2e.wallet_model import check_chain
from tests.harness import FakeUpstream, Stack, wait_until
from tests.harness import http as http_call

MODEL = "fc:openai/gpt-4o-mini"
HOLD_TTL_S = 5
LOAD_THREADS = 8
KILL_AFTER_CALLS = 40  # completed calls before the kill; the load threads keep more in flight


@pytest.fixture(scope="module", params=["sqlite-per_call", "sqlite-lease", "postgres-per_call", "postgres-lease"])
def crash_stack(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream
) -> Iterator[Stack]:
    """One stack per configuration for the module: each test kills it and brings it back on the same
    data (so a later test crashes a stack that already recovered once), with customers of its own."""
    backend, path = request.param.split("-")
    env = {"RINGSIDE_HOLD_TTL_S": str(HOLD_TTL_S), "RINGSIDE_LEASES": str(path == "lease").lower()}
    stack = Stack(backend, tmp_path_factory.mktemp(f"crash-{request.param}"), upstream, extra_env=env)
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
    # Let load build up: the point is to kill it mid-flight, with calls done and calls in flight.
    wait_until(lambda: len(completed) >= KILL_AFTER_CALLS, 30, f"{KILL_AFTER_CALLS} calls to complete")
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
        # Calls reported finished before the kill have their own records; those only reported
        # admitted were posted at their estimates when their lease expired (status lease_released),
        # and nothing else: no lease is posted whole, every slot no call took is released.
        assert rows
        released = stack.query(
            "SELECT u.posted_nano, a.estimate_nano FROM usage_records u "
            "LEFT JOIN lease_admissions a ON a.request_id = u.request_id WHERE u.status = 'lease_released'"
        )
        assert all(estimate is not None and posted <= estimate for posted, estimate in released), released
        assert not stack.query("SELECT request_id FROM usage_records WHERE status = 'lease_expired'")
        leases = stack.query("SELECT COUNT(*) FROM holds WHERE kind = 'lease' AND state NOT IN ('closed', 'expired')")
        assert leases[0][0] == 0


def test_sigkill_mid_wallet_load_debits_each_call_once(crash_stack: Stack) -> None:
    """A wallet customer's calls (always on the per-call path): after the crash and the expiry of
    what was in flight, each call is debited at most once, each debit belongs to an authorized call,
    each completed call has exactly one debit of its cost, each expired hold is posted once at its
    reserve, and the wallet's chain and balance add up."""
    stack = crash_stack
    customer_id = stack.call("POST", "/v1/customers", stack.live_key, {"wallet": {"enabled": True}}).json()["id"]
    funds = 10_000_000  # $0.01: about a thousand of these calls, more than the load gets through
    topup = stack.call("POST", f"/v1/customers/{customer_id}/wallet/topup", stack.live_key, {"amount_usd": "0.01"})
    assert topup.status == 200, topup.body
    completed = _run_load_then_kill(stack, customer_id)

    stack.start()  # same data dir and database
    wait_until(lambda: stack.audit().open_holds == 0, HOLD_TTL_S * 4, "holds in flight to expire")
    audit = stack.audit()
    assert audit.ok, audit
    api = CoreApi(stack)
    try:
        wallet, transactions = api.wallet(customer_id)
    finally:
        api.close()
    check_chain(wallet, transactions)
    assert wallet.held_nano_usd == 0
    debits = Counter(tx.request_id for tx in transactions if tx.type == "debit")
    assert all(count == 1 for count in debits.values()), [rid for rid, count in debits.items() if count > 1]
    debited = {tx.request_id: -tx.amount_nano_usd for tx in transactions if tx.type == "debit"}
    refunded = sum(tx.amount_nano_usd for tx in transactions if tx.type == "refund")
    assert wallet.balance_nano_usd == funds - sum(debited.values()) + refunded

    holds = stack.query("SELECT id, amount_nano, state FROM holds WHERE customer_id = ?", customer_id)
    assert not debited.keys() - {row[0] for row in holds}, "a debit without an authorized call"
    for hold_id, amount, state in holds:
        assert state in ("settled", "expired"), (hold_id, state)
        if state == "expired":  # in flight at the kill: posted once, at its reserve
            assert debited.get(hold_id) == amount, (hold_id, amount, debited.get(hold_id))
    for call in completed:
        assert debited.get(call.request_id) == call.cost_nano, call
