"""GET/PATCH /v1/account: markup, auto-created customers, the default output bound."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.harness import Stack, wait_until

MODEL = "fc:openai/gpt-4o-mini"


def _usd_nano(value: object) -> int:
    return int(Decimal(str(value)).scaleb(9))


@pytest.mark.both_backends
def test_settings_change_how_calls_are_billed_and_attributed(stack: Stack) -> None:
    tenant = stack.new_account()  # settings are per account: keep the suite's own account untouched
    key = tenant["live"]
    settings = stack.call("GET", "/v1/account", key).json()
    assert settings == {
        "id": tenant["id"],
        "object": "account",
        "livemode": True,
        "auto_create_customers": False,
        "markup_pct": 0,
        "default_max_output_tokens": None,
        "default_tier_id": None,
        "prepaid_balance_enabled": False,
        "balance_usd": 0,
        "low_threshold_pct": 80,
        "require_customer": False,
        "bare_model_provider": None,
    }
    changed = stack.call(
        "PATCH",
        "/v1/account",
        key,
        {"markup_pct": "25.5", "auto_create_customers": True, "default_max_output_tokens": 7},
    )
    assert changed.status == 200, changed.body
    assert changed.json()["markup_pct"] == 25.5 and changed.json()["auto_create_customers"] is True

    # an unknown ext: customer is created on the spot, and billed with the markup
    call = stack.call(
        "POST",
        "/v1/chat/completions",
        key,
        {"model": MODEL, "messages": [{"role": "user", "content": "auto"}]},
        headers={"FC-Customer": "ext:born-on-first-call"},
    )
    assert call.status == 200, call.body
    usage = call.json()["usage"]
    cost = -(-(usage["prompt_tokens"] * 150_000_000 + usage["completion_tokens"] * 600_000_000) // 1_000_000)
    billable = -(-cost * 12_550 // 10_000)
    customer = wait_until(
        lambda: (
            (c := stack.call("GET", "/v1/customers/ext:born-on-first-call", key)).status == 200
            and c.json()["request_count_mtd"] == 1
            and c.json()
        ),
        10,
        "the auto-created customer's call",
    )
    assert _usd_nano(customer["spend_usd_mtd"]) == billable
    report = stack.call("GET", "/v1/usage", key).json()
    assert _usd_nano(report["total_margin_usd"]) == billable - cost

    # the account's default output bound reached the provider (the client set none)
    sent = [r["body"] for r in stack.upstream.requests() if "auto" in str(r["body"].get("messages"))]  # type: ignore[union-attr]
    assert sent and sent[-1].get("max_completion_tokens") == 7 and "max_tokens" not in sent[-1]
    assert usage["completion_tokens"] <= 7

    # the body's `user` auto-creates too
    assert (
        stack.call(
            "POST",
            "/v1/chat/completions",
            key,
            {"model": MODEL, "user": "peer-user", "messages": [{"role": "user", "content": "x"}]},
        ).status
        == 200
    )
    assert stack.call("GET", "/v1/customers/ext:peer-user", key).status == 200


def test_settings_are_bounded_and_need_the_admin_scope(stack: Stack) -> None:
    tenant = stack.new_account()
    for body, param in [
        ({"markup_pct": 1000.01}, "markup_pct"),
        ({"markup_pct": "1.234"}, "markup_pct"),
        ({"markup_pct": -1}, "markup_pct"),
        ({"auto_create_customers": "yes"}, "auto_create_customers"),
        ({"default_max_output_tokens": 0}, "default_max_output_tokens"),
    ]:
        response = stack.call("PATCH", "/v1/account", tenant["live"], body)
        assert response.status == 400 and response.json()["error"]["param"] == param, body
    writer = stack.call("POST", "/v1/api_keys", tenant["live"], {"mode": "live", "scopes": ["api:write"]}).json()
    assert stack.call("GET", "/v1/account", writer["secret"]).status == 403
    assert stack.call("PATCH", "/v1/account", writer["secret"], {"markup_pct": 5}).status == 403
