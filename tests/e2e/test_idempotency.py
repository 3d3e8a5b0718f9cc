"""Idempotency-Key with Stripe's semantics on POSTs that create objects or move money."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from tests.harness import ADMIN_KEY, Stack

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends


def test_one_topup_sent_ten_times_at_once_credits_once(stack: Stack) -> None:
    cid = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "idem_" + secrets.token_hex(4)}).json()[
        "id"
    ]
    key = "topup-" + secrets.token_hex(8)

    def send(_: int) -> tuple[int, str | None, bytes]:
        response = stack.call(
            "POST",
            f"/v1/customers/{cid}/wallet/topup",
            stack.live_key,
            {"amount_usd": 5},
            headers={"Idempotency-Key": key},
        )
        return response.status, response.headers.get("idempotent-replayed"), response.body

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(send, range(10)))
    statuses = sorted(status for status, _, _ in results)
    assert set(statuses) <= {200, 409} and statuses.count(200) >= 1, statuses
    first_bodies = {body for status, replayed, body in results if status == 200}
    assert len(first_bodies) == 1  # a replay is byte for byte the first answer
    wallet = stack.call("GET", f"/v1/customers/{cid}/wallet", stack.live_key).json()
    assert Decimal(str(wallet["balance_usd"])) == 5
    assert len(wallet["transactions"]["data"]) == 1

    replay = stack.call(
        "POST", f"/v1/customers/{cid}/wallet/topup", stack.live_key, {"amount_usd": 5}, headers={"Idempotency-Key": key}
    )
    assert replay.status == 200 and replay.headers["idempotent-replayed"] == "true"
    assert replay.body in first_bodies
    reused = stack.call(
        "POST", f"/v1/customers/{cid}/wallet/topup", stack.live_key, {"amount_usd": 6}, headers={"Idempotency-Key": key}
    )
    assert reused.status == 400 and reused.json()["error"]["code"] == "idempotency_key_reused"
    # keys are per route and per tenant: the same key elsewhere is a new request
    other = stack.call(
        "POST",
        "/v1/customers",
        stack.live_key,
        {"external_id": "idem2_" + secrets.token_hex(4)},
        headers={"Idempotency-Key": key},
    )
    assert other.status == 201 and "idempotent-replayed" not in other.headers


def test_a_request_refused_by_validation_is_not_stored(stack: Stack) -> None:
    key = "create-" + secrets.token_hex(8)
    bad = stack.call(
        "POST", "/v1/customers", stack.live_key, {"external_id": "x" * 300}, headers={"Idempotency-Key": key}
    )
    assert bad.status == 400
    body = {"external_id": "idem3_" + secrets.token_hex(4)}
    good = stack.call("POST", "/v1/customers", stack.live_key, body, headers={"Idempotency-Key": key})
    assert good.status == 201 and "idempotent-replayed" not in good.headers
    again = stack.call("POST", "/v1/customers", stack.live_key, body, headers={"Idempotency-Key": key})
    assert again.status == 201 and again.headers["idempotent-replayed"] == "true"
    assert again.json()["id"] == good.json()["id"]
    too_long = stack.call("POST", "/v1/customers", stack.live_key, body, headers={"Idempotency-Key": "k" * 256})
    assert too_long.status == 400 and too_long.json()["error"]["param"] == "Idempotency-Key"


def test_a_secret_shown_once_is_not_kept_for_replays(stack: Stack) -> None:
    key = "new-key-" + secrets.token_hex(8)
    body = {"mode": "test", "scopes": ["api:read"], "name": "reporting"}
    first = stack.call("POST", "/v1/api_keys", stack.live_key, body, headers={"Idempotency-Key": key})
    assert first.status == 201, first.body
    secret = first.json()["secret"]
    assert secret.startswith("sk_test_")
    again = stack.call("POST", "/v1/api_keys", stack.live_key, body, headers={"Idempotency-Key": key})
    assert again.status == 201 and again.headers.get("idempotent-replayed") == "true"
    replayed = again.json()
    assert replayed["id"] == first.json()["id"]  # the same key, not a second one
    assert replayed["secret"] is None and replayed["secret_shown_once"] is True
    stored = stack.query("SELECT body FROM idempotency_keys WHERE key = ?", key)
    assert stored and secret.encode() not in bytes(stored[0][0])
    assert stack.call("GET", "/v1/models", secret).status == 200  # the first answer's secret works


def _replays_without_its_secrets(stack: Stack, path: str, key: str, body: dict[str, Any]) -> tuple[Any, Any]:
    """(first answer, replay) of one POST sent twice with one Idempotency-Key; the stored answer
    holds none of the first answer's secrets."""
    idempotency_key = "shown-once-" + secrets.token_hex(8)
    first = stack.call("POST", path, key, body, headers={"Idempotency-Key": idempotency_key})
    assert first.status in (200, 201), first.body
    again = stack.call("POST", path, key, body, headers={"Idempotency-Key": idempotency_key})
    assert (again.status, again.headers.get("idempotent-replayed")) == (first.status, "true"), again.body
    shown = [
        value
        for item in [first.json(), *first.json().get("api_keys", [])]
        for name, value in item.items()
        if name in ("secret", "token") and isinstance(value, str)
    ]
    assert shown, first.body
    stored = stack.query("SELECT body FROM idempotency_keys WHERE key = ?", idempotency_key)
    assert len(stored) == 1 and not [secret for secret in shown if secret.encode() in bytes(stored[0][0])]
    return first.json(), again.json()


def test_no_secret_shown_once_is_ever_replayed(stack: Stack) -> None:
    """API.md "Idempotency": an API key's and a webhook endpoint's secret, the keys of a new account,
    a Client Token, a rotated secret — each is null in a replay, and the object says it was shown."""
    key = stack.live_key
    endpoint, replayed = _replays_without_its_secrets(
        stack, "/v1/webhooks", key, {"url": "https://hooks.example.invalid/shown-once", "events": ["*"]}
    )
    assert endpoint["secret"].startswith("whsec_")
    assert replayed["id"] == endpoint["id"] and replayed["secret"] is None and replayed["secret_shown_once"] is True

    rotated, replayed = _replays_without_its_secrets(stack, f"/v1/webhooks/{endpoint['id']}/rotate_secret", key, {})
    assert rotated["secret"].startswith("whsec_") and rotated["secret"] != endpoint["secret"]
    assert replayed["secret"] is None and replayed["secret_shown_once"] is True
    current = stack.call("POST", f"/v1/webhooks/{endpoint['id']}/rotate_secret", key, {}).json()["secret"]
    assert current not in (rotated["secret"], endpoint["secret"])  # the replay did not rotate again

    customer = stack.call("POST", "/v1/customers", key, {"external_id": "shown_" + secrets.token_hex(4)}).json()
    token_body = {"origin": "https://app.example", "allowed_endpoints": ["GET /v1/customers/:id"]}
    token, replayed = _replays_without_its_secrets(
        stack, f"/v1/customers/{customer['id']}/client_tokens", key, token_body
    )
    assert token["object"] == "client_token" and token["token"]
    assert replayed["token"] is None and replayed["secret_shown_once"] is True
    assert replayed["expires_at"] == token["expires_at"]  # the same token's answer, not a second one

    account, replayed = _replays_without_its_secrets(stack, "/v1/accounts", ADMIN_KEY, {"name": "shown once"})
    assert replayed["id"] == account["id"] and len(replayed["api_keys"]) == len(account["api_keys"]) == 2
    assert all(k["secret"] is None and k["secret_shown_once"] is True for k in replayed["api_keys"])
    assert replayed["secret_shown_once"] is True
    assert all(stack.call("GET", "/v1/models", k["secret"]).status == 200 for k in account["api_keys"])
