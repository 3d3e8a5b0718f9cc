"""The account's own prepaid balance: the operator funds it, live calls draw their provider cost from
it, and once it cannot pay for one token, calls are 402 `wallet_empty`; exact under concurrency and
across a restart."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import openai
import pytest
from openai import OpenAI

from tests.harness import ADMIN_KEY, Stack, wait_until

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends

MODEL = "fc:openai/gpt-4o-mini"
TOP_UP = Decimal("0.0002")  # about 25 calls of ~20 tokens out at gpt-4o-mini's price


def cost_nano(usage: Any) -> int:
    return -(-(usage.prompt_tokens * 150_000_000 + usage.completion_tokens * 600_000_000) // 1_000_000)


def balance_usd(stack: Stack, key: str) -> Decimal:
    return Decimal(str(stack.call("GET", "/v1/account", key).json()["balance_usd"]))


def test_the_operator_funds_an_account_once_per_idempotency_key(stack: Stack) -> None:
    tenant = stack.new_account()
    path = f"/v1/accounts/{tenant['id']}/balance/topup"
    body = {"amount_usd": str(TOP_UP), "description": "invoice 42"}
    first = stack.call("POST", path, ADMIN_KEY, body, headers={"Idempotency-Key": "fund-" + tenant["id"]})
    again = stack.call("POST", path, ADMIN_KEY, body, headers={"Idempotency-Key": "fund-" + tenant["id"]})
    assert first.status == again.status == 200, first.body
    assert again.headers.get("idempotent-replayed") == "true"
    assert first.json()["balance_usd"] == float(TOP_UP)
    assert balance_usd(stack, tenant["live"]) == TOP_UP

    assert stack.call("POST", path, tenant["live"], body).status == 403  # only the operator funds
    assert stack.call("POST", path, ADMIN_KEY, {"amount_usd": "-1"}).status == 400
    assert stack.call("POST", "/v1/accounts/acct_nope/balance/topup", ADMIN_KEY, body).status == 404


def test_live_calls_draw_on_the_balance_until_it_is_empty_then_402_wallet_empty(stack: Stack) -> None:
    tenant = stack.new_account()
    stack.call("POST", f"/v1/accounts/{tenant['id']}/balance/topup", ADMIN_KEY, {"amount_usd": str(TOP_UP)})
    enabled = stack.call("PATCH", "/v1/account", tenant["live"], {"prepaid_balance_enabled": True})
    assert enabled.status == 200 and enabled.json()["prepaid_balance_enabled"] is True
    sdk = OpenAI(base_url=stack.base_url + "/v1", api_key=tenant["live"], max_retries=0)

    def one(index: int) -> Any:
        try:
            return sdk.chat.completions.create(
                model=MODEL, max_tokens=20, messages=[{"role": "user", "content": f"prepaid call {index}"}]
            )
        except openai.APIStatusError as error:
            return error

    with ThreadPoolExecutor(max_workers=16) as pool:
        outcomes = list(pool.map(one, range(80)))
    refused = [o for o in outcomes if isinstance(o, openai.APIStatusError)]
    answered = [o for o in outcomes if not isinstance(o, openai.APIStatusError)]
    assert refused and answered
    assert all(e.status_code == 402 and e.code == "wallet_empty" for e in refused), refused[:3]
    assert all(e.response.headers.get("x-should-retry") == "false" for e in refused)
    paid_nano = sum(cost_nano(a.usage) for a in answered)
    assert paid_nano <= TOP_UP.scaleb(9)
    left = balance_usd(stack, tenant["live"])
    assert left >= 0
    assert left == TOP_UP - Decimal(paid_nano).scaleb(-9)

    # test-mode calls never reach a provider and never draw on it
    test_sdk = OpenAI(base_url=stack.base_url + "/v1", api_key=tenant["test"], max_retries=0)
    test_sdk.chat.completions.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "free"}])
    assert balance_usd(stack, tenant["live"]) == left
    audit = stack.audit()
    assert audit.ok, audit

    # a top-up lets calls through again; the balance survives a restart exactly
    stack.call("POST", f"/v1/accounts/{tenant['id']}/balance/topup", ADMIN_KEY, {"amount_usd": "0.001"})
    assert one(0).usage.completion_tokens > 0
    before = balance_usd(stack, tenant["live"])
    stack.stop()
    stack.start()
    assert balance_usd(stack, tenant["live"]) == before
    assert stack.audit().ok


def test_disabled_again_calls_no_longer_check_the_balance(stack: Stack) -> None:
    tenant = stack.new_account()
    stack.call("PATCH", "/v1/account", tenant["live"], {"prepaid_balance_enabled": True})
    sdk = OpenAI(base_url=stack.base_url + "/v1", api_key=tenant["live"], max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        sdk.chat.completions.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "no funds"}])
    assert refused.value.code == "wallet_empty"
    stack.call("PATCH", "/v1/account", tenant["live"], {"prepaid_balance_enabled": False})
    answer = wait_until(
        lambda: sdk.chat.completions.create(model=MODEL, max_tokens=5, messages=[{"role": "user", "content": "ok"}]),
        5,
        "a call to pass",
    )
    assert answer.usage is not None
    assert balance_usd(stack, tenant["live"]) == 0
