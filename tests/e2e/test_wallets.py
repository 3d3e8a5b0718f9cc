"""Prepaid wallets: top-ups turn them on, calls debit them, they never go below zero, and every
movement is one transfer with a consistent balance_after chain."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import openai
import pytest

from tests.harness import Response, Stack, wait_until

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends

MODEL = "fc:openai/gpt-4o-mini"
BURST_CALLS = 300
CALLS_COVERED = 50


def _nano(value: object) -> int:
    return int(Decimal(str(value)).scaleb(9))


def _chat(stack: Stack, customer_id: str, index: int) -> Response:
    return stack.call(
        "POST",
        "/v1/chat/completions",
        stack.live_key,
        {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": f"w{index}"}]},
        headers={"FC-Customer": customer_id},
    )


def _wallet(stack: Stack, customer_id: str, query: str = "?limit=100") -> dict[str, object]:
    response = stack.call("GET", f"/v1/customers/{customer_id}/wallet{query}", stack.live_key)
    assert response.status == 200, response.body
    return dict(response.json())


def test_wallet_lifecycle_and_concurrent_calls_never_overdraw(stack: Stack) -> None:
    customer = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "w_" + secrets.token_hex(4)}).json()
    cid = customer["id"]
    assert customer["wallet"]["enabled"] is False
    # One call holds ≲ 10 output + a small prompt ≈ $0.0000085: $0.0002 covers ~20 calls.
    topup = stack.call(
        "POST",
        f"/v1/customers/{cid}/wallet/topup",
        stack.live_key,
        {"amount_usd": "0.0002", "description": "starter credits"},
    )
    assert topup.status == 200, topup.body
    assert topup.json()["type"] == "topup" and topup.json()["balance_after_usd"] == 0.0002
    assert _wallet(stack, cid)["enabled"] is True

    with ThreadPoolExecutor(max_workers=24) as pool:
        responses = list(pool.map(lambda i: _chat(stack, cid, i), range(100)))
    statuses = {r.status for r in responses}
    assert statuses <= {200, 402} and 402 in statuses, statuses
    refused = [r for r in responses if r.status == 402]
    assert all(r.json()["error"]["code"] == "customer_wallet_empty" for r in refused)
    admitted = sum(r.status == 200 for r in responses)

    def settled() -> dict[str, object] | None:
        wallet = _wallet(stack, cid)
        debits = [tx for tx in wallet["transactions"]["data"] if tx["type"] == "debit"]  # type: ignore[index]
        return wallet if len(debits) >= admitted and _nano(wallet["held_usd"]) == 0 else None

    wallet = wait_until(settled, 15, "every call to be debited")
    balance = _nano(wallet["balance_usd"])
    assert balance >= 0
    transactions = list(reversed(wallet["transactions"]["data"]))  # type: ignore[index]
    running = 0
    for tx in transactions:  # every balance_after follows from the one before
        running += _nano(tx["amount_usd"])
        assert _nano(tx["balance_after_usd"]) == running
    assert running == balance
    debits = [tx for tx in transactions if tx["type"] == "debit"]
    assert len(debits) == admitted and all(tx["request_id"] for tx in debits)
    assert -sum(_nano(tx["amount_usd"]) for tx in debits) == 200_000 - balance

    # refunds: part of a debit, then the rest, never more
    debit = debits[0]
    part = -_nano(debit["amount_usd"]) // 2
    first = stack.call(
        "POST",
        f"/v1/customers/{cid}/wallet/refund",
        stack.live_key,
        {"transaction_id": debit["id"], "amount_usd": str(Decimal(part).scaleb(-9))},
    )
    assert first.status == 200 and first.json()["type"] == "refund", first.body
    rest = stack.call("POST", f"/v1/customers/{cid}/wallet/refund", stack.live_key, {"transaction_id": debit["id"]})
    assert rest.status == 200 and _nano(rest.json()["amount_usd"]) == -_nano(debit["amount_usd"]) - part
    again = stack.call("POST", f"/v1/customers/{cid}/wallet/refund", stack.live_key, {"transaction_id": debit["id"]})
    assert again.status == 400 and again.json()["error"]["param"] == "amount_usd"
    assert (
        stack.call(
            "POST", f"/v1/customers/{cid}/wallet/refund", stack.live_key, {"transaction_id": transactions[0]["id"]}
        ).status
        == 404
    )  # a top-up is not a debit

    # adjust: in with a reason; out never below zero
    after_refunds = _nano(_wallet(stack, cid)["balance_usd"])
    too_much = stack.call(
        "POST",
        f"/v1/customers/{cid}/wallet/adjust",
        stack.live_key,
        {"amount_usd": str(-Decimal(after_refunds + 1).scaleb(-9)), "reason": "chargeback"},
    )
    assert too_much.status == 400
    out = stack.call(
        "POST",
        f"/v1/customers/{cid}/wallet/adjust",
        stack.live_key,
        {"amount_usd": str(-Decimal(after_refunds).scaleb(-9)), "reason": "chargeback"},
    )
    assert out.status == 200 and out.json()["balance_after_usd"] == 0
    empty = _chat(stack, cid, 999)
    assert empty.status == 402 and empty.json()["error"]["code"] == "customer_wallet_empty"
    audit = stack.audit()
    assert audit.ok, audit


def test_wallet_inputs_are_bounded(stack: Stack) -> None:
    cid = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "wb_" + secrets.token_hex(4)}).json()[
        "id"
    ]
    for path, body, param in [
        ("topup", {"amount_usd": 0}, "amount_usd"),
        ("topup", {"amount_usd": "1000000.01"}, "amount_usd"),
        ("topup", {"amount_usd": -1}, "amount_usd"),
        ("topup", {}, "amount_usd"),
        ("topup", {"amount_usd": "0.0000000001"}, "amount_usd"),
        ("topup", {"amount_usd": 1, "description": "d" * 501}, "description"),
        ("adjust", {"amount_usd": 1}, "reason"),
        ("refund", {}, "transaction_id"),
    ]:
        response = stack.call("POST", f"/v1/customers/{cid}/wallet/{path}", stack.live_key, body)
        assert response.status == 400 and response.json()["error"]["param"] == param, (path, body, response.body)
    assert stack.call("GET", "/v1/customers/cus_nope/wallet", stack.live_key).status == 404
    other = stack.new_account()
    assert stack.call("POST", f"/v1/customers/{cid}/wallet/topup", other["live"], {"amount_usd": 1}).status == 404


def test_wallet_calls_tell_the_balance(stack: Stack) -> None:
    cid = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "wh_" + secrets.token_hex(4)}).json()[
        "id"
    ]
    stack.call("POST", f"/v1/customers/{cid}/wallet/topup", stack.live_key, {"amount_usd": 1})
    plain = stack.call(
        "POST",
        "/v1/chat/completions",
        stack.live_key,
        {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "balance"}]},
        headers={"FC-Customer": cid},
    )
    assert plain.status == 200
    deducted = _nano(plain.headers["x-ringside-wallet-deducted"])
    usage = plain.json()["usage"]
    assert deducted == -(
        -(usage["prompt_tokens"] * 150_000_000 + usage["completion_tokens"] * 600_000_000) // 1_000_000
    )
    after = _nano(plain.headers["x-ringside-wallet-balance"])
    assert after == 1_000_000_000 - deducted

    stream = stack.call(
        "POST",
        "/v1/chat/completions",
        stack.live_key,
        {
            "model": MODEL,
            "max_tokens": 5,
            "stream": True,
            "stream_options": {"include_usage": True},
            "messages": [{"role": "user", "content": "stream balance"}],
        },
        headers={"FC-Customer": cid},
    )
    assert stream.status == 200 and _nano(stream.headers["x-ringside-wallet-balance"]) == after  # before this call
    frames = [f for f in stream.body.split(b"\n\n") if f]
    assert frames[-1] == b"data: [DONE]"
    import json

    final = json.loads(frames[-2][len(b"data: ") :])
    assert final["choices"] == [] and final["usage"]["completion_tokens"] > 0
    billed = _nano(final["ringside"]["billable_amount_usd"])
    assert billed > 0 and _nano(final["ringside"]["wallet_balance_usd"]) == after - billed
    assert _nano(_wallet(stack, cid)["balance_usd"]) == after - billed


def _sdk_call(client: openai.OpenAI, customer_id: str, index: int) -> tuple[int, dict[str, str], object]:
    """One call as a user makes it: (status, headers, body or error)."""
    try:
        raw = client.chat.completions.with_raw_response.create(
            model=MODEL,
            max_tokens=10,
            messages=[{"role": "user", "content": f"burst {index}"}],
            extra_headers={"FC-Customer": customer_id},
        )
    except openai.APIStatusError as error:
        return error.status_code, dict(error.response.headers), error.response.json()
    return raw.http_response.status_code, dict(raw.headers), raw.parse()


def test_300_concurrent_calls_on_a_wallet_covering_50(stack: Stack) -> None:
    client = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=stack.live_key, max_retries=0)
    customer_id = stack.call("POST", "/v1/customers", stack.live_key, {"wallet": {"enabled": True}}).json()["id"]
    # What one such call costs, measured on the wallet itself, then enough for CALLS_COVERED of them.
    stack.call("POST", f"/v1/customers/{customer_id}/wallet/topup", stack.live_key, {"amount_usd": 1})
    status, headers, _ = _sdk_call(client, customer_id, -1)
    assert status == 200
    per_call = _nano(headers["x-ringside-wallet-deducted"])
    balance = _nano(headers["x-ringside-wallet-balance"])
    stack.call(
        "POST",
        f"/v1/customers/{customer_id}/wallet/adjust",
        stack.live_key,
        {"amount_usd": str(Decimal(CALLS_COVERED * per_call - balance).scaleb(-9)), "reason": "covers ~50 calls"},
    )
    funded = _nano(_wallet(stack, customer_id)["balance_usd"])
    assert funded == CALLS_COVERED * per_call

    with ThreadPoolExecutor(max_workers=32) as pool:
        results = list(pool.map(lambda i: _sdk_call(client, customer_id, i), range(BURST_CALLS)))
    admitted = [headers for status, headers, _ in results if status == 200]
    refused = [body for status, _, body in results if status == 402]
    assert len(admitted) + len(refused) == BURST_CALLS, {status for status, _, _ in results}
    assert all(body["error"]["code"] == "customer_wallet_empty" for body in refused)  # type: ignore[index]
    assert admitted and refused
    billed = sum(_nano(headers["x-ringside-wallet-deducted"]) for headers in admitted)
    assert billed <= funded
    wallet = _wallet(stack, customer_id)
    assert _nano(wallet["balance_usd"]) == funded - billed >= 0
    assert _nano(wallet["held_usd"]) == 0
    debits = [tx["request_id"] for tx in wallet["transactions"]["data"] if tx["type"] == "debit"]  # type: ignore[index]
    assert len(debits) == len(set(debits)) == len(admitted) + 1  # one each, and the probe's
    assert {headers["x-request-id"] for headers in admitted} < set(debits)
    audit = stack.audit()
    assert audit.ok, audit
