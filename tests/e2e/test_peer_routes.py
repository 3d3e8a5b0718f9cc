"""Seed 004's flows (the peer proxy's docs), normalised: valid JSON, a slot named like the model,
host and key changed. People migrating keep their calls."""

from __future__ import annotations

from decimal import Decimal

import openai
import pytest

from tests.harness import Stack, wait_until

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends


def test_peer_customer_and_budget_flows(stack: Stack) -> None:
    tenant = stack.new_account()
    key = tenant["live"]
    # the peer routes its bare model names; here a slot of that name does
    slot = stack.call("POST", "/v1/slots", key, {"name": "gpt-3.5-turbo", "model": "fc:openai/gpt-4o-mini"})
    assert slot.status == 201, slot.body
    assert (
        stack.call("POST", "/v1/slots", key, {"name": "gpt-3.5-turbo", "model": "fc:openai/gpt-4o-mini"}).status == 400
    )
    assert stack.call("POST", "/v1/slots", key, {"name": "x", "model": "fc:openai/nope"}).status == 400

    # "Make a /chat/completions call, pass 'user'": attributed once the customer exists
    created = stack.call("POST", "/customer/new", key, {"user_id": "ishaan3"})
    assert created.status == 200 and created.json()["user_id"] == "ishaan3", created.body
    chat = stack.call(
        "POST",
        "/chat/completions",
        key,
        {"model": "gpt-3.5-turbo", "user": "ishaan3", "messages": [{"role": "user", "content": "what time is it"}]},
    )
    assert chat.status == 200, chat.body
    assert chat.headers["x-ringside-model-resolved"] == "fc:openai/gpt-4o-mini"
    info = wait_until(
        lambda: (r := stack.call("GET", "/customer/info?end_user_id=ishaan3", key).json())["spend"] > 0 and r,
        10,
        "the call to be recorded",
    )
    assert info["user_id"] == "ishaan3" and info["blocked"] is False and info["alias"] is None

    # "max_budget": "0" (a string, as the peer's docs send it) refuses every call
    assert stack.call("POST", "/customer/new", key, {"user_id": "my-customer-id", "max_budget": "0"}).status == 200
    refused = stack.call(
        "POST",
        "/chat/completions",
        key,
        {"model": "gpt-3.5-turbo", "user": "my-customer-id", "messages": [{"role": "user", "content": "weather?"}]},
    )
    assert refused.status == 402 and refused.json()["error"]["code"] == "customer_budget_exceeded"

    # pricing tiers: a budget named by budget_id, assigned at creation
    budget = stack.call("POST", "/budget/new", key, {"budget_id": "my-free-tier", "max_budget": 4})
    assert budget.status == 200 and budget.json()["budget_id"] == "my-free-tier" and budget.json()["max_budget"] == 4
    tiered = stack.call("POST", "/customer/new", key, {"user_id": "tiered-user", "budget_id": "my-free-tier"}).json()
    assert tiered["budget_id"] == "my-free-tier" and tiered["max_budget"] == 4
    assert tiered["litellm_budget_table"]["max_budget"] == 4
    listed = stack.call("POST", "/budget/info", key, {"budgets": ["my-free-tier"]}).json()
    assert listed[0]["budget_id"] == "my-free-tier"

    # a default budget for all customers (the peer's max_end_user_budget_id = our default tier)
    default = stack.call("POST", "/budget/new", key, {"max_budget": 10, "rpm_limit": 2, "tpm_limit": 1000}).json()
    assert (
        stack.call(
            "PATCH", "/v1/account", key, {"default_tier_id": default["budget_id"], "auto_create_customers": True}
        ).status
        == 200
    )
    first = stack.call(
        "POST",
        "/chat/completions",
        key,
        {"model": "gpt-3.5-turbo", "user": "my-new-customer", "messages": [{"role": "user", "content": "Hello"}]},
    )
    assert first.status == 200
    newcomer = stack.call("GET", "/v1/customers/ext:my-new-customer", key).json()
    assert newcomer["budget_usd"] == 10 and newcomer["limits_source"]["budget_usd"] == "default_tier"

    # block / unblock / update / delete by user_ids
    assert stack.call("POST", "/customer/block", key, {"user_ids": ["ishaan3"]}).json() == {
        "blocked_users": ["ishaan3"]
    }
    blocked = wait_until(
        lambda: (
            (
                r := stack.call(
                    "POST",
                    "/chat/completions",
                    key,
                    {"model": "gpt-3.5-turbo", "user": "ishaan3", "messages": [{"role": "user", "content": "x"}]},
                )
            ).status
            == 403
            and r
        ),
        5,
        "the block to apply",
    )
    assert blocked.json()["error"]["code"] == "customer_blocked"
    assert stack.call("POST", "/customer/unblock", key, {"user_ids": ["ishaan3"]}).status == 200
    updated = stack.call("POST", "/customer/update", key, {"user_id": "ishaan3", "max_budget": 2.5}).json()
    assert updated["max_budget"] == 2.5
    deleted = wait_until(
        lambda: (r := stack.call("POST", "/customer/delete", key, {"user_ids": ["tiered-user"]})).status == 200 and r,
        10,
        "the delete",
    )
    assert deleted.json() == {"deleted_customers": ["tiered-user"]}
    assert stack.call("GET", "/customer/info?end_user_id=tiered-user", key).status == 404

    # bad input: a budget that is not monthly, a bare model with no slot, ids that are not a list
    assert stack.call("POST", "/budget/new", key, {"max_budget": 1, "budget_duration": "7d"}).status == 400
    missing = stack.call(
        "POST", "/chat/completions", key, {"model": "mistral", "messages": [{"role": "user", "content": "x"}]}
    )
    assert missing.status == 400 and missing.json()["error"]["code"] == "invalid_model_ref"
    assert stack.call("POST", "/customer/block", key, {"user_ids": "ishaan3"}).status == 400
    # on /v1 too a bare name that is the account's slot names it (API.md "Model calls", exception 1);
    # any other bare name stays a 400 (model refs need a prefix); slot: works everywhere
    v1 = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)
    assert v1.chat.completions.create(model="slot:gpt-3.5-turbo", messages=[{"role": "user", "content": "y"}]).choices
    assert v1.chat.completions.create(model="gpt-3.5-turbo", messages=[{"role": "user", "content": "y"}]).choices
    bare = stack.call(
        "POST", "/v1/chat/completions", key, {"model": "mistral", "messages": [{"role": "user", "content": "x"}]}
    )
    assert bare.status == 400 and bare.json()["error"]["code"] == "invalid_model_ref"
    assert Decimal(str(info["spend"])) > 0


def test_bulk_peer_routes_change_all_or_nothing(stack: Stack) -> None:
    """/customer/delete, /customer/block and /customer/unblock with one unknown id among several
    change nothing (issue 14, item 4): every id is checked before any is changed."""
    key = stack.new_account()["live"]
    for user_id in ("bulk_a", "bulk_b"):
        assert stack.call("POST", "/customer/new", key, {"user_id": user_id}).status == 200
    for route in ("/customer/block", "/customer/delete"):
        refused = stack.call("POST", route, key, {"user_ids": ["bulk_a", "nobody", "bulk_b"]})
        assert refused.status == 404 and refused.json()["error"]["code"] == "customer_not_found", refused.body
        assert "nobody" in refused.json()["error"]["message"]
        for user_id in ("bulk_a", "bulk_b"):
            info = stack.call("GET", f"/customer/info?end_user_id={user_id}", key)
            assert info.status == 200 and info.json()["blocked"] is False, (route, user_id)

    blocked = stack.call("POST", "/customer/block", key, {"user_ids": ["bulk_a", "bulk_b", "bulk_a"]})
    assert blocked.status == 200 and blocked.json() == {"blocked_users": ["bulk_a", "bulk_b"]}
    assert all(
        stack.call("GET", f"/customer/info?end_user_id={u}", key).json()["blocked"] for u in ("bulk_a", "bulk_b")
    )
    assert stack.call("POST", "/customer/unblock", key, {"user_ids": ["bulk_b", "ghost"]}).status == 404
    assert stack.call("GET", "/customer/info?end_user_id=bulk_b", key).json()["blocked"] is True

    stack.call("POST", "/v1/customers/ext:bulk_b/wallet/topup", key, {"amount_usd": 1})
    undeletable = stack.call("POST", "/customer/delete", key, {"user_ids": ["bulk_a", "bulk_b"]})
    assert undeletable.status == 409 and undeletable.json()["error"]["code"] == "customer_has_balance"
    assert stack.call("GET", "/customer/info?end_user_id=bulk_a", key).status == 200  # not deleted either
    deleted = stack.call("POST", "/customer/delete", key, {"user_ids": ["bulk_a"]})
    assert deleted.status == 200 and deleted.json() == {"deleted_customers": ["bulk_a"]}
    assert stack.call("GET", "/customer/info?end_user_id=bulk_a", key).status == 404
