"""allowed_models end to end (API.md "Governance"), with the real OpenAI SDK: key, tier and customer
lists, `fc:` patterns, `slot:` and `match:` entries, a `match:` ref choosing its newest allowed
model, a slot's fallbacks skipped, a Client Token minted by a restricted key, /v1/models filtered,
under live and test keys alike — and 403 model_not_allowed before anything is held."""

from __future__ import annotations

import secrets
from typing import Any

import openai
import pytest

from tests.harness import Response, Stack, http

ORIGIN = "http://localhost:5173"
HI = [{"role": "user", "content": "hi"}]


def client(stack: Stack, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)


def new_key(stack: Stack, admin_key: str, allowed: Any, mode: str = "live") -> dict[str, Any]:
    created = stack.call(
        "POST", "/v1/api_keys", admin_key, {"mode": mode, "scopes": ["api:write"], "allowed_models": allowed}
    )
    assert created.status == 201, created.body
    return dict(created.json())


def new_customer(stack: Stack, key: str, **fields: Any) -> dict[str, Any]:
    created = stack.call("POST", "/v1/customers", key, {"external_id": "am_" + secrets.token_hex(5), **fields})
    assert created.status == 201, created.body
    return dict(created.json())


def new_tier(stack: Stack, key: str, **fields: Any) -> dict[str, Any]:
    created = stack.call("POST", "/v1/tiers", key, {"name": "t_" + secrets.token_hex(4), **fields})
    assert created.status == 201, created.body
    return dict(created.json())


def chat(stack: Stack, key: str, model: str, customer_id: str = "") -> tuple[int, str, Any]:
    """(status, resolved model or error code, the response)."""
    headers = {"FC-Customer": customer_id} if customer_id else {}
    try:
        raw = client(stack, key).chat.completions.with_raw_response.create(
            model=model, messages=HI, max_completion_tokens=5, extra_headers=headers
        )
    except openai.APIStatusError as error:
        body = error.response.json()["error"]
        return error.status_code, str(body["code"]), body
    return raw.status_code, raw.headers["x-ringside-model-resolved"], raw


@pytest.fixture(params=["live", "test"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def account(stack: Stack, mode: str) -> dict[str, str]:
    """A fresh tenant (tiers and slots of its own); `key` is its all-scopes key of the mode under test."""
    made = stack.new_account()
    return {"id": made["id"], "key": made[mode], "mode": mode}


def test_a_key_list_with_patterns_allows_only_its_models(stack: Stack, account: dict[str, str]) -> None:
    restricted = new_key(stack, account["key"], ["fc:openai/gpt-4o*", "fc:openai/o3"], account["mode"])
    assert restricted["allowed_models"] == ["fc:openai/gpt-4o*", "fc:openai/o3"]
    listed = stack.call("GET", "/v1/api_keys", account["key"]).json()["data"]
    assert next(k for k in listed if k["id"] == restricted["id"])["allowed_models"] == restricted["allowed_models"]
    secret = restricted["secret"]
    assert chat(stack, secret, "fc:openai/gpt-4o-mini")[:2] == (200, "fc:openai/gpt-4o-mini")
    assert chat(stack, secret, "fc:openai/gpt-4o")[:2] == (200, "fc:openai/gpt-4o")
    status, code, error = chat(stack, secret, "fc:openai/gpt-4.1")
    assert (status, code, error["type"], error["param"]) == (403, "model_not_allowed", "permission_error", "model")
    # the account's unrestricted key is not affected
    assert chat(stack, account["key"], "fc:openai/gpt-4.1")[0] == 200


def test_refused_before_any_hold_and_listed_as_nothing_spent(
    stack: Stack, account: dict[str, str], upstream: Any
) -> None:
    secret = new_key(stack, account["key"], ["fc:openai/gpt-4o-mini"], account["mode"])["secret"]
    customer = new_customer(stack, account["key"], budget_usd=1)
    before = len(upstream.requests())
    assert chat(stack, secret, "fc:openai/gpt-4.1", customer["id"])[:2] == (403, "model_not_allowed")
    assert len(upstream.requests()) == before
    holds = stack.query("SELECT count(*) FROM holds WHERE customer_id = ?", customer["id"])
    assert holds == [(0,)]


def test_tier_customer_and_default_tier_lists_combine_like_the_other_limits(
    stack: Stack, account: dict[str, str]
) -> None:
    key = account["key"]
    small = new_tier(stack, key, allowed_models=["fc:openai/gpt-4o-mini"])
    assert small["allowed_models"] == ["fc:openai/gpt-4o-mini"]
    on_tier = new_customer(stack, key, tier_id=small["id"])
    assert on_tier["allowed_models"] == ["fc:openai/gpt-4o-mini"]
    assert on_tier["limits_source"]["allowed_models"] == "tier"
    assert chat(stack, key, "fc:openai/gpt-4o-mini", on_tier["id"])[0] == 200
    assert chat(stack, key, "fc:openai/gpt-4o", on_tier["id"])[:2] == (403, "model_not_allowed")
    # the customer's explicit value wins (null: every model), and unset returns it to its tier
    patched = stack.call("PATCH", f"/v1/customers/{on_tier['id']}", key, {"allowed_models": None}).json()
    assert patched["allowed_models"] is None and patched["limits_source"]["allowed_models"] == "customer"
    assert chat(stack, key, "fc:openai/gpt-4o", on_tier["id"])[0] == 200
    unset = stack.call("PATCH", f"/v1/customers/{on_tier['id']}", key, {"unset": ["allowed_models"]}).json()
    assert unset["allowed_models"] == ["fc:openai/gpt-4o-mini"]
    assert chat(stack, key, "fc:openai/gpt-4o", on_tier["id"])[:2] == (403, "model_not_allowed")
    # a tier's list changes with a PATCH
    stack.call("PATCH", f"/v1/tiers/{small['id']}", key, {"allowed_models": ["fc:openai/*"]})
    assert stack.call("GET", f"/v1/customers/{on_tier['id']}", key).json()["allowed_models"] == ["fc:openai/*"]
    # the customer's own list; the account's default tier for customers without one
    own = new_customer(stack, key, allowed_models=["fc:openai/gpt-4.1"])
    assert chat(stack, key, "fc:openai/gpt-4o-mini", own["id"])[:2] == (403, "model_not_allowed")
    assert chat(stack, key, "fc:openai/gpt-4.1", own["id"])[0] == 200
    default = new_tier(stack, key, allowed_models=["fc:openai/gpt-4.1-nano"])
    assert stack.call("PATCH", "/v1/account", key, {"default_tier_id": default["id"]}).status == 200
    plain = new_customer(stack, key)
    assert plain["limits_source"]["allowed_models"] == "default_tier"
    assert chat(stack, key, "fc:openai/gpt-4o-mini", plain["id"])[:2] == (403, "model_not_allowed")
    assert chat(stack, key, "fc:openai/gpt-4.1-nano", plain["id"])[0] == 200
    # an unattributed call is checked against the key's list only
    assert chat(stack, key, "fc:openai/gpt-4o-mini")[0] == 200


def test_a_call_must_pass_both_the_key_and_the_customer_list(stack: Stack, account: dict[str, str]) -> None:
    secret = new_key(stack, account["key"], ["fc:openai/gpt-4o-mini", "fc:openai/gpt-4.1"], account["mode"])["secret"]
    customer = new_customer(stack, account["key"], allowed_models=["fc:openai/gpt-4.1", "fc:openai/gpt-4o"])
    assert chat(stack, secret, "fc:openai/gpt-4.1", customer["id"])[0] == 200
    assert chat(stack, secret, "fc:openai/gpt-4o-mini", customer["id"])[:2] == (403, "model_not_allowed")
    assert chat(stack, secret, "fc:openai/gpt-4o", customer["id"])[:2] == (403, "model_not_allowed")


def test_slot_and_match_entries(stack: Stack, account: dict[str, str]) -> None:
    key = account["key"]
    assert stack.call("POST", "/v1/slots", key, {"name": "cheap", "model": "fc:openai/gpt-4o-mini"}).status == 201
    by_slot = new_key(stack, key, ["slot:cheap"], account["mode"])["secret"]
    assert chat(stack, by_slot, "fc:openai/gpt-4o-mini")[0] == 200
    assert chat(stack, by_slot, "slot:cheap")[:2] == (200, "fc:openai/gpt-4o-mini")
    assert chat(stack, by_slot, "fc:openai/gpt-4o")[:2] == (403, "model_not_allowed")
    by_match = new_key(stack, key, ["match:openai/gpt-mini>=5"], account["mode"])["secret"]
    assert chat(stack, by_match, "fc:openai/gpt-5-mini")[0] == 200
    assert chat(stack, by_match, "fc:openai/gpt-4.1-mini")[:2] == (403, "model_not_allowed")


def test_a_match_ref_picks_its_newest_allowed_model(stack: Stack, account: dict[str, str], upstream: Any) -> None:
    secret = new_key(stack, account["key"], ["fc:openai/gpt-4.1-mini"], account["mode"])["secret"]
    # the family's newest (gpt-5-mini) is outside the list: the newest allowed one answers
    assert chat(stack, secret, "match:openai/gpt-mini>=4")[:2] == (200, "fc:openai/gpt-4.1-mini")
    if account["mode"] == "live":
        assert upstream.requests()[-1]["body"]["model"] == "gpt-4.1-mini"
    assert chat(stack, secret, "match:openai/gpt-mini>=5")[:2] == (403, "model_not_allowed")


def test_a_slot_skips_fallbacks_outside_the_list(stack: Stack, account: dict[str, str], upstream: Any) -> None:
    key = account["key"]
    slot = {"name": "chain", "models": ["fc:openai/gpt-4o", "fc:openai/gpt-4o-mini"]}
    made = stack.call("POST", "/v1/slots", key, slot)
    assert made.status == 201, made.body
    customer = new_customer(stack, key, allowed_models=["fc:openai/gpt-4o-mini"])
    before = len(upstream.requests())
    assert chat(stack, key, "slot:chain", customer["id"])[:2] == (200, "fc:openai/gpt-4o-mini")
    sent = [request["body"]["model"] for request in upstream.requests()[before:]]
    assert "gpt-4o" not in sent  # the disallowed first model was never tried
    none_left = new_customer(stack, key, allowed_models=["fc:openai/gpt-4.1"])
    assert chat(stack, key, "slot:chain", none_left["id"])[:2] == (403, "model_not_allowed")


def test_a_client_token_carries_its_minting_keys_list(stack: Stack, account: dict[str, str]) -> None:
    restricted = new_key(stack, account["key"], ["fc:openai/gpt-4o-mini"], account["mode"])["secret"]
    customer = new_customer(stack, account["key"])
    minted = stack.call(
        "POST",
        f"/v1/customers/{customer['id']}/client_tokens",
        restricted,
        {"origin": ORIGIN, "allowed_endpoints": ["POST /v1/chat/completions"]},
    )
    assert minted.status == 201, minted.body
    token = minted.json()["token"]

    def as_browser(model: str) -> Response:
        body = {"model": model, "messages": HI, "max_tokens": 5}
        headers = {"Authorization": f"Client {token}", "Origin": ORIGIN}
        return http("POST", stack.base_url + "/v1/chat/completions", None, body, headers=headers)

    assert as_browser("fc:openai/gpt-4o-mini").status == 200
    refused = as_browser("fc:openai/gpt-4o")
    assert refused.status == 403 and refused.json()["error"]["code"] == "model_not_allowed"


def test_models_lists_only_what_the_key_may_call(stack: Stack, account: dict[str, str]) -> None:
    key = account["key"]
    stack.call("POST", "/v1/slots", key, {"name": "small", "model": "fc:openai/gpt-4.1-mini"})
    stack.call("POST", "/v1/slots", key, {"name": "big", "model": "fc:openai/gpt-4.1"})
    restricted = new_key(stack, key, ["fc:openai/gpt-4.1-mini", "fc:openai/gpt-4o-mini"], account["mode"])
    listed = {model.id for model in client(stack, restricted["secret"]).models.list().data}
    # a family's selector at the newest major the key may call: gpt-mini's newest (5) is not allowed
    assert {"fc:openai/gpt-4.1-mini", "fc:openai/gpt-4o-mini", "match:openai/gpt-mini>=4"} <= listed
    assert "match:openai/gpt-mini>=5" not in listed and "match:openai/gpt>=5" not in listed
    assert "slot:small" in listed and "slot:big" not in listed
    assert "fc:openai/gpt-4.1" not in listed
    assert all(ref.startswith(("fc:openai/gpt-4.1-mini", "fc:openai/gpt-4o-mini", "match:", "slot:")) for ref in listed)
    everything = {model.id for model in client(stack, key).models.list().data}
    assert "fc:openai/gpt-4.1" in everything and len(everything) > len(listed)


def test_bad_lists_are_400s(stack: Stack, account: dict[str, str]) -> None:
    key = account["key"]
    for bad in ["fc:openai/*", ["gpt-4o"], ["fc:"], [1], ["match:openai/gpt"], ["fc:a/b"] * 101, ["fc:a/\u0000"]]:
        for path, body in [
            ("/v1/api_keys", {"mode": account["mode"], "scopes": ["api:write"]}),
            ("/v1/tiers", {"name": "bad_" + secrets.token_hex(3)}),
            ("/v1/customers", {"external_id": "bad_" + secrets.token_hex(3)}),
        ]:
            refused = stack.call("POST", path, key, {**body, "allowed_models": bad})
            assert refused.status == 400, (path, bad, refused.body)
            assert refused.json()["error"]["param"] == "allowed_models"


def test_a_restricted_key_cannot_make_a_key_that_may_call_more(stack: Stack, account: dict[str, str]) -> None:
    scopes = ["api:admin", "api:write"]
    body = {"mode": account["mode"], "scopes": scopes, "allowed_models": ["fc:openai/gpt-4o-mini", "slot:cheap"]}
    admin = stack.call("POST", "/v1/api_keys", account["key"], body)
    assert admin.status == 201, admin.body
    restricted_admin = admin.json()["secret"]
    inherited = stack.call("POST", "/v1/api_keys", restricted_admin, {"mode": account["mode"], "scopes": scopes})
    assert inherited.status == 201 and inherited.json()["allowed_models"] == ["fc:openai/gpt-4o-mini", "slot:cheap"]
    narrower = new_key(stack, restricted_admin, ["fc:openai/gpt-4o-mini"], account["mode"])
    assert narrower["allowed_models"] == ["fc:openai/gpt-4o-mini"]
    wider = {"mode": account["mode"], "scopes": scopes, "allowed_models": ["fc:openai/*"]}
    refused = stack.call("POST", "/v1/api_keys", restricted_admin, wider)
    assert refused.status == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    # an explicit null asks for every model: the creator's list still applies
    unlimited = stack.call("POST", "/v1/api_keys", restricted_admin, {**wider, "allowed_models": None})
    assert unlimited.status == 201 and unlimited.json()["allowed_models"] == ["fc:openai/gpt-4o-mini", "slot:cheap"]
