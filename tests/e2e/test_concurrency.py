"""Many simultaneous calls: caps hold exactly, the ledger balances, usage equals debits."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

from tests.harness import Response, Stack, wait_until

MODEL = "fc:openai/gpt-4o-mini"
WORKERS = 32


def _call(stack: Stack, customer_id: str, index: int) -> Response:
    return stack.call(
        "POST",
        "/v1/chat/completions",
        stack.live_key,
        {"model": MODEL, "max_tokens": 20, "messages": [{"role": "user", "content": f"call {index}"}]},
        headers={"FC-Customer": customer_id},
    )


def _recorded(stack: Stack, customer_id: str, requests: int) -> dict[str, Any]:
    """The customer once every admitted call is recorded (lease reports arrive in batches)."""

    def state() -> dict[str, Any] | None:
        current = stack.call("GET", f"/v1/customers/{customer_id}", stack.live_key).json()
        return current if current["request_count_mtd"] >= requests and current["wallet"] is not None else None

    return dict(wait_until(state, 15, f"{requests} calls to be recorded"))


def _cost_nano(usage: dict[str, int]) -> int:
    scaled = usage["prompt_tokens"] * 150_000_000 + usage["completion_tokens"] * 600_000_000
    return -(-scaled // 1_000_000)


def _burst(stack: Stack, customer_id: str, count: int) -> list[Response]:
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        return list(pool.map(lambda i: _call(stack, customer_id, i), range(count)))


def _posted_for(stack: Stack, customer_id: str) -> int:
    rows = stack.query(
        "SELECT COALESCE(SUM(posted_nano), 0), COUNT(*) FROM usage_records WHERE customer_id = ?", customer_id
    )
    return int(rows[0][0])


def test_concurrent_calls_never_pass_the_cap(stack: Stack) -> None:
    # One call holds ≲ 20 output tokens × $0.60/M + a small prompt ≈ $0.000016; the cap fits ~40.
    budget = Decimal("0.0005")
    created = stack.call(
        "POST",
        "/v1/customers",
        stack.live_key,
        {"external_id": "burst_" + secrets.token_hex(4), "budget_usd": str(budget)},
    ).json()
    responses = _burst(stack, created["id"], 150)
    statuses = {r.status for r in responses}
    assert statuses <= {200, 402}, statuses
    refused = [r for r in responses if r.status == 402]
    assert refused, "the burst should have exhausted the budget"
    assert all(r.json()["error"]["code"] == "customer_budget_exceeded" for r in refused)
    assert all(r.headers.get("x-should-retry") == "false" for r in refused)
    admitted = sum(r.status == 200 for r in responses)
    after = _recorded(stack, created["id"], admitted)
    spend = Decimal(str(after["spend_usd_mtd"]))
    assert spend <= budget
    assert after["budget_status"] == "exceeded"
    assert after["request_count_mtd"] == admitted
    assert Decimal(_posted_for(stack, created["id"])).scaleb(-9) == spend
    audit = stack.audit()
    assert audit.ok, audit


def test_ledger_balances_after_a_burst_of_unlimited_calls(stack: Stack) -> None:
    created = stack.call(
        "POST", "/v1/customers", stack.live_key, {"external_id": "free_" + secrets.token_hex(4)}
    ).json()
    responses = _burst(stack, created["id"], 200)
    assert all(r.status == 200 for r in responses), {r.status for r in responses}
    after = _recorded(stack, created["id"], 200)
    assert after["request_count_mtd"] == 200
    spend_nano = int(Decimal(str(after["spend_usd_mtd"])).scaleb(9))
    assert spend_nano == _posted_for(stack, created["id"])
    # each call rounded up on its own (API.md "Money"), summed
    assert spend_nano == sum(_cost_nano(r.json()["usage"]) for r in responses)
    audit = stack.audit()
    assert audit.ok and audit.imbalance_nano_usd == 0 and audit.memory_mismatches == 0, audit
