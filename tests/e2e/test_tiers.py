"""Tiers and effective limits: customer's own value > its tier > the account's default tier > none."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.harness import Stack, wait_until

MODEL = "fc:openai/gpt-4o-mini"


def test_effective_limits_follow_customer_then_tier_then_default(stack: Stack) -> None:
    tenant = stack.new_account()
    key = tenant["live"]
    created = stack.call(
        "POST", "/v1/tiers", key, {"name": "free", "budget_usd": "0.0002", "rate_limit_rpm": 60, "markup_pct": 10}
    )
    assert created.status == 201, created.body
    tier = created.json()
    assert tier["id"].startswith("tier_") and tier["budget_usd"] == 0.0002 and tier["markup_pct"] == 10
    assert stack.call("POST", "/v1/tiers", key, {"name": "free"}).status == 400  # names are unique

    customer = stack.call("POST", "/v1/customers", key, {"external_id": "t1", "tier_id": "free"}).json()
    assert customer["tier_id"] == tier["id"] and customer["budget_usd"] == 0.0002
    assert customer["limits_source"]["budget_usd"] == "tier" and customer["limits_source"]["markup_pct"] == "tier"

    # the tier's markup bills the call; its cap refuses once spent
    call = stack.call(
        "POST",
        "/v1/chat/completions",
        key,
        {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "tiered"}]},
        headers={"FC-Customer": customer["id"]},
    )
    assert call.status == 200
    usage = call.json()["usage"]
    cost = -(-(usage["prompt_tokens"] * 150_000_000 + usage["completion_tokens"] * 600_000_000) // 1_000_000)
    state = wait_until(
        lambda: (c := stack.call("GET", f"/v1/customers/{customer['id']}", key).json())["request_count_mtd"] == 1 and c,
        10,
        "the call to be recorded",
    )
    assert Decimal(str(state["spend_usd_mtd"])).scaleb(9) == -(-cost * 11_000 // 10_000)
    statuses = [
        stack.call(
            "POST",
            "/v1/chat/completions",
            key,
            {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": f"b{i}"}]},
            headers={"FC-Customer": customer["id"]},
        ).status
        for i in range(60)
    ]
    assert 402 in statuses
    spent = stack.call("GET", f"/v1/customers/{customer['id']}", key).json()
    assert Decimal(str(spent["spend_usd_mtd"])) <= Decimal("0.0002")

    # the customer's own value wins; unset returns to the tier
    mine = stack.call("PATCH", f"/v1/customers/{customer['id']}", key, {"budget_usd": 2}).json()
    assert mine["budget_usd"] == 2 and mine["limits_source"]["budget_usd"] == "customer"
    assert mine["budget_status"] == "ok"  # a changed cap re-arms it
    back = stack.call("PATCH", f"/v1/customers/{customer['id']}", key, {"unset": ["budget_usd"]}).json()
    assert back["budget_usd"] == 0.0002 and back["limits_source"]["budget_usd"] == "tier"

    # the account's default tier covers customers with no tier of their own
    settings = stack.call("PATCH", "/v1/account", key, {"default_tier_id": "free"}).json()
    assert settings["default_tier_id"] == tier["id"]
    plain = stack.call("POST", "/v1/customers", key, {"external_id": "t2"}).json()
    assert plain["tier_id"] is None and plain["budget_usd"] == 0.0002
    assert plain["limits_source"]["budget_usd"] == "default_tier"
    # ...in the mode it was set for only
    test_customer = stack.call("POST", "/v1/customers", tenant["test"], {"external_id": "t3"}).json()
    assert test_customer["budget_usd"] is None and test_customer["limits_source"]["budget_usd"] == "none"

    # a tier in use cannot be deleted
    assert stack.call("DELETE", f"/v1/tiers/{tier['id']}", key).status == 409
    stack.call("PATCH", "/v1/account", key, {"default_tier_id": None})
    stack.call("PATCH", f"/v1/customers/{customer['id']}", key, {"unset": ["tier_id"]})
    assert stack.call("DELETE", "/v1/tiers/free", key).status == 200
    assert stack.call("GET", f"/v1/tiers/{tier['id']}", key).status == 404


@pytest.mark.both_backends
def test_tier_routes_page_update_and_bound(stack: Stack) -> None:
    tenant = stack.new_account()
    key = tenant["live"]
    ids = [stack.call("POST", "/v1/tiers", key, {"name": f"n{i}"}).json()["id"] for i in range(3)]
    listed = stack.call("GET", "/v1/tiers?limit=2", key).json()
    assert [t["id"] for t in listed["data"]] == ids[::-1][:2] and listed["has_more"] is True
    renamed = stack.call("PATCH", f"/v1/tiers/{ids[0]}", key, {"name": "gold", "rpm_limit": 5}).json()
    assert renamed["name"] == "gold" and renamed["rate_limit_rpm"] == 5 and renamed["budget_usd"] is None
    assert stack.call("GET", "/v1/tiers/gold", key).json()["id"] == ids[0]
    for body, param in [
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "tier_x"}, "name"),
        ({"name": "ok", "budget_usd": -1}, "budget_usd"),
        ({"name": "ok", "markup_pct": 2000}, "markup_pct"),
    ]:
        response = stack.call("POST", "/v1/tiers", key, body)
        assert response.status == 400 and response.json()["error"]["param"] == param, body
    assert stack.call("POST", "/v1/customers", key, {"tier_id": "nope"}).json()["error"]["param"] == "tier_id"
    assert stack.call("GET", "/v1/tiers/gold", stack.live_key).status == 404  # another tenant's
