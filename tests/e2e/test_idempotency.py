"""Idempotency-Key with Stripe's semantics on POSTs that create objects or move money."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

from tests.harness import Stack


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
