"""/v1/webhooks over HTTP: endpoints, bounds, scopes, tenancy, rotation, and the outbox rows a
customer's creation writes in its own commit."""

from __future__ import annotations

import base64

import pytest

from tests.harness import Stack

RECEIVER = "https://hooks.example.invalid/ringside"  # never resolves: accepted, never contacted here


def test_endpoint_lifecycle(stack: Stack) -> None:
    key = stack.new_account()["live"]
    created = stack.call("POST", "/v1/webhooks", key, {"url": RECEIVER, "events": ["wallet.low", "budget.exceeded"]})
    assert created.status == 201, created.body
    endpoint = created.json()
    secret = endpoint["secret"]
    assert endpoint["id"].startswith("we_") and endpoint["object"] == "webhook_endpoint"
    assert secret.startswith("whsec_") and len(base64.b64decode(secret[6:])) == 32
    assert endpoint["events"] == ["wallet.low", "customer.budget_exceeded"]  # the alias, resolved
    assert endpoint["status"] == "enabled"

    fetched = stack.call("GET", f"/v1/webhooks/{endpoint['id']}", key).json()
    assert "secret" not in fetched and fetched["url"] == RECEIVER
    listed = stack.call("GET", "/v1/webhooks", key).json()
    assert listed["object"] == "list" and [e["id"] for e in listed["data"]] == [endpoint["id"]]
    assert listed["has_more"] is False and listed["url"] == "/v1/webhooks"

    updated = stack.call("POST", f"/v1/webhooks/{endpoint['id']}", key, {"events": ["*"], "description": "ops"})
    assert updated.status == 200 and updated.json()["events"] == ["*"] and updated.json()["description"] == "ops"
    disabled = stack.call("POST", f"/v1/webhooks/{endpoint['id']}", key, {"disabled": True}).json()
    assert disabled["status"] == "disabled"

    rotated = stack.call("POST", f"/v1/webhooks/{endpoint['id']}/rotate_secret", key).json()
    assert rotated["secret"] != secret and rotated["secret"].startswith("whsec_")
    assert rotated["previous_secret_expires_at"] >= rotated["created"] + 86_400 - 5
    too_long = stack.call("POST", f"/v1/webhooks/{endpoint['id']}/rotate_secret", key, {"overlap_seconds": 10**7})
    assert too_long.status == 400 and too_long.json()["error"]["param"] == "overlap_seconds"

    log = stack.call("GET", f"/v1/webhooks/{endpoint['id']}/deliveries", key).json()
    assert log == {"object": "list", "data": [], "has_more": False, "url": f"/v1/webhooks/{endpoint['id']}/deliveries"}
    missing = stack.call("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/evt_nope/redeliver", key)
    assert missing.status == 404

    deleted = stack.call("DELETE", f"/v1/webhooks/{endpoint['id']}", key).json()
    assert deleted == {"id": endpoint["id"], "object": "webhook_endpoint", "deleted": True}
    assert stack.call("GET", f"/v1/webhooks/{endpoint['id']}", key).status == 404


def test_bounds_and_catalog(stack: Stack) -> None:
    key = stack.new_account()["live"]
    cases = [
        ({"events": ["wallet.low"]}, "url"),
        ({"url": RECEIVER}, "events"),
        ({"url": RECEIVER, "events": ["wallet.lo"]}, "events"),
        ({"url": RECEIVER, "events": []}, "events"),
        ({"url": RECEIVER, "events": ["wallet.low"] * 101}, "events"),
        ({"url": "ftp://example.com/x", "events": ["*"]}, "url"),
        ({"url": "http://" + "a" * 2050 + ".com/", "events": ["*"]}, "url"),
        ({"url": "https://hooks.example.invalid/a b", "events": ["*"]}, "url"),
        ({"url": "https://hooks.example.invalid\\@evil.example/x", "events": ["*"]}, "url"),
        ({"url": "https://user:pass@hooks.example.invalid/x", "events": ["*"]}, "url"),
        ({"url": "https://hooks.example.invalid/x\ty", "events": ["*"]}, "url"),
        ({"url": "http://203.0.113.9./x", "events": ["*"]}, "url"),
        ({"url": "http://hooks.example.invalid:99999/x", "events": ["*"]}, "url"),
        ({"url": RECEIVER, "events": ["*"], "description": "d" * 501}, "description"),
    ]
    for body, param in cases:
        response = stack.call("POST", "/v1/webhooks", key, body)
        assert response.status == 400, (body, response.body)
        error = response.json()["error"]
        assert error["type"] == "invalid_request_error" and error["param"] == param, error


def test_redelivery_only_to_an_endpoint_subscribed_to_the_event_type(stack: Stack) -> None:
    key = stack.new_account()["live"]
    endpoint = stack.call("POST", "/v1/webhooks", key, {"url": RECEIVER, "events": ["wallet.low"]}).json()
    stack.call("POST", "/v1/customers", key, {"external_id": "redelivered"})
    (event,) = stack.call("GET", "/v1/events?type=customer.created", key).json()["data"]
    refused = stack.call("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/{event['id']}/redeliver", key)
    assert refused.status == 400 and refused.json()["error"]["param"] == "delivery_id", refused.body
    assert "customer.created" in refused.json()["error"]["message"]
    stack.call("POST", f"/v1/webhooks/{endpoint['id']}", key, {"events": ["*"]})
    again = stack.call("POST", f"/v1/webhooks/{endpoint['id']}/deliveries/{event['id']}/redeliver", key)
    assert again.status == 200 and again.json()["event_id"] == event["id"], again.body


def test_scope_and_tenancy(stack: Stack) -> None:
    tenant = stack.new_account()
    other = stack.new_account()["live"]
    endpoint = stack.call("POST", "/v1/webhooks", tenant["live"], {"url": RECEIVER, "events": ["*"]}).json()
    assert stack.call("GET", f"/v1/webhooks/{endpoint['id']}", other).status == 404
    assert stack.call("GET", f"/v1/webhooks/{endpoint['id']}", tenant["test"]).status == 404  # other mode
    write_only = stack.call(
        "POST", "/v1/api_keys", tenant["live"], {"mode": "live", "scopes": ["api:write"], "name": "w"}
    ).json()["secret"]
    refused = stack.call("GET", "/v1/webhooks", write_only)
    assert refused.status == 403 and refused.json()["error"]["code"] == "insufficient_scope"


@pytest.mark.both_backends
def test_a_customer_creation_writes_its_event_and_outbox_row(stack: Stack) -> None:
    key = stack.new_account()["live"]
    customer = stack.call("POST", "/v1/customers", key, {"external_id": "ev1", "budget_usd": 5}).json()
    rows = stack.query(
        "SELECT e.type, e.body FROM events e JOIN outbox o ON o.event_id = e.id WHERE e.customer_id = ?", customer["id"]
    )
    assert [row[0] for row in rows] == ["customer.created"]
    assert '"budget_usd":5' in rows[0][1] and '"external_id":"ev1"' in rows[0][1]


def test_registration_refuses_hosts_that_resolve_to_blocked_addresses(stack: Stack) -> None:
    key = stack.new_account()["live"]
    for url in (
        "http://127.0.0.1:8080/x",
        "http://localhost/x",
        "http://10.0.0.8/x",
        "http://169.254.169.254/latest/meta-data",
        "http://100.64.1.1/x",
        "http://[::1]/x",
        "http://[fe80::1]/x",
        "http://[fd00::1]/x",
        "http://[::ffff:192.168.0.1]/x",
        "http://224.0.0.1/x",
    ):
        response = stack.call("POST", "/v1/webhooks", key, {"url": url, "events": ["*"]})
        assert response.status == 400, url
        assert response.json()["error"]["param"] == "url" and "resolves to" in response.json()["error"]["message"]
