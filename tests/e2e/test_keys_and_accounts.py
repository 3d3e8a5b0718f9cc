"""API keys and accounts: created once with their secret, stored hashed, revocable."""

from __future__ import annotations

import openai
import pytest

from tests.harness import ADMIN_KEY, Stack

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends


def test_key_lifecycle(stack: Stack) -> None:
    created = stack.call("POST", "/v1/api_keys", stack.live_key, {"mode": "test", "scopes": ["api:read"], "name": "ci"})
    assert created.status == 201, created.body
    key = created.json()
    assert key["secret"].startswith("sk_test_") and key["scopes"] == ["api:read"] and key["livemode"] is False
    # keys are listed and revoked within their own mode (API.md "Tenancy")
    listed = stack.call("GET", "/v1/api_keys?limit=100", stack.test_key).json()
    assert listed["object"] == "list" and key["id"] in {k["id"] for k in listed["data"]}
    assert all("secret" not in k and k["livemode"] is False for k in listed["data"])
    live_listed = stack.call("GET", "/v1/api_keys?limit=100", stack.live_key).json()
    assert key["id"] not in {k["id"] for k in live_listed["data"]}
    assert stack.call("DELETE", f"/v1/api_keys/{key['id']}", stack.live_key).status == 404
    stored = stack.query("SELECT secret_hash FROM api_keys WHERE id = ?", key["id"])[0][0]
    assert key["secret"] not in stored and len(stored) == 64

    # a read-only key may read but not call models
    client = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key["secret"], max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as caught:
        client.chat.completions.create(model="fc:openai/gpt-4o-mini", messages=[{"role": "user", "content": "x"}])
    assert caught.value.body["code"] == "insufficient_scope"  # type: ignore[index]

    deleted = stack.call("DELETE", f"/v1/api_keys/{key['id']}", stack.test_key)
    assert deleted.status == 200 and deleted.json()["deleted"] is True
    assert stack.call("GET", "/v1/customers/cus_x", key["secret"]).status == 401
    assert stack.call("DELETE", f"/v1/api_keys/{key['id']}", stack.test_key).status == 404


def test_a_test_key_cannot_mint_live_keys_and_the_admin_key_has_no_account(stack: Stack) -> None:
    refused = stack.call("POST", "/v1/api_keys", stack.test_key, {"mode": "live"})
    assert refused.status == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    # without `mode` a key is made in the caller's mode (API.md "API keys")
    for caller, prefix in ((stack.test_key, "sk_test_"), (stack.live_key, "sk_live_")):
        made = stack.call("POST", "/v1/api_keys", caller, {"scopes": ["api:read"], "name": "same mode"})
        assert made.status == 201 and made.json()["secret"].startswith(prefix), made.body
    for method, path in [
        ("POST", "/v1/api_keys"),
        ("GET", "/v1/api_keys"),
        ("GET", "/v1/account"),
        ("POST", "/v1/customers"),
        ("GET", "/v1/usage"),
    ]:
        response = stack.call(method, path, ADMIN_KEY, {} if method == "POST" else None)
        assert response.status == 403, (method, path, response.body)


def test_key_management_needs_admin_scope(stack: Stack) -> None:
    writer = stack.call("POST", "/v1/api_keys", stack.live_key, {"mode": "live", "scopes": ["api:write"]}).json()
    response = stack.call("POST", "/v1/api_keys", writer["secret"], {"mode": "live"})
    assert response.status == 403 and response.json()["error"]["code"] == "insufficient_scope"
    assert stack.call("POST", "/v1/api_keys", stack.live_key, {"mode": "live", "scopes": ["api:root"]}).status == 400


def test_accounts_are_for_the_operator(stack: Stack) -> None:
    refused = stack.call("POST", "/v1/accounts", stack.live_key, {"name": "x"})
    assert refused.status == 403 and refused.json()["error"]["code"] == "insufficient_scope"
    assert stack.call("POST", "/v1/accounts", "rsadmin_wrong", {"name": "x"}).status == 401
    created = stack.call("POST", "/v1/accounts", ADMIN_KEY, {"name": "tenant"})
    assert created.status == 201
    body = created.json()
    assert body["id"].startswith("acct_") and {k["livemode"] for k in body["api_keys"]} == {True, False}
    listed = stack.call("GET", "/v1/accounts?limit=100", ADMIN_KEY).json()
    assert body["id"] in {a["id"] for a in listed["data"]}
    assert stack.call("GET", "/v1/accounts?limit=0", ADMIN_KEY).status == 200  # 0 = default
    assert stack.call("GET", "/v1/accounts?limit=101", ADMIN_KEY).status == 400


def test_customer_create_is_idempotent_on_external_id_even_concurrently(stack: Stack) -> None:
    from concurrent.futures import ThreadPoolExecutor

    body = {"external_id": "ext:user_42-" + stack.backend, "budget_usd": "25.5", "metadata": {"plan": "pro"}}
    with ThreadPoolExecutor(max_workers=16) as pool:
        responses = list(pool.map(lambda _: stack.call("POST", "/v1/customers", stack.live_key, body), range(16)))
    assert sorted(r.status for r in responses) == [200] * 15 + [201]
    assert len({r.json()["id"] for r in responses}) == 1
    fetched = stack.call("GET", f"/v1/customers/ext:{body['external_id']}", stack.live_key).json()
    assert fetched["budget_usd"] == 25.5 and fetched["metadata"] == {"plan": "pro"}


@pytest.mark.parametrize(
    "body,param",
    [
        ({"external_id": "x" * 256}, "external_id"),
        ({"budget_usd": -1}, "budget_usd"),
        ({"budget_usd": "1e10"}, "budget_usd"),
        ({"budget_usd": "0.0000000001"}, "budget_usd"),
        ({"metadata": {f"k{i}": i for i in range(51)}}, "metadata"),
        ({"metadata": {"k": "v" * 501}}, "metadata"),
        ({"name": "n" * 257}, "name"),
        ({"rate_limit_rpm": -5}, "rate_limit_rpm"),
    ],
)
def test_customer_bounds(stack: Stack, body: dict[str, object], param: str) -> None:
    response = stack.call("POST", "/v1/customers", stack.live_key, body)
    assert response.status == 400, response.body
    assert response.json()["error"]["param"] == param
