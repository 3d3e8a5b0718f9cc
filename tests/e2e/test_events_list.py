"""GET /v1/events[/:id] (API.md "Usage"): every event of the last 30 days, whether or not an endpoint
subscribed — here none ever does — newest first, filtered by type and created range, per tenant."""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness import Stack

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends


def _events(stack: Stack, key: str, query: str = "") -> dict[str, Any]:
    response = stack.call("GET", "/v1/events" + query, key)
    assert response.status == 200, response.body
    listed: dict[str, Any] = response.json()
    return listed


def test_every_event_is_listed_without_any_endpoint_newest_first_and_paginates(stack: Stack) -> None:
    account = stack.new_account()
    key = account["live"]
    customers = [
        stack.call("POST", "/v1/customers", key, {"external_id": f"events_{n}"}).json()["id"] for n in range(3)
    ]
    assert stack.call("PATCH", f"/v1/customers/{customers[0]}", key, {"name": "Renamed"}).status == 200

    listed = _events(stack, key)
    assert listed["object"] == "list" and listed["url"] == "/v1/events" and listed["has_more"] is False
    types = [event["type"] for event in listed["data"]]
    assert types == ["customer.updated", "customer.created", "customer.created", "customer.created"]
    ids = [event["id"] for event in listed["data"]]
    assert all(event_id.startswith("evt_") for event_id in ids) and ids == sorted(ids, reverse=True)
    created_for = [event["data"]["customer"]["id"] for event in listed["data"][1:]]
    assert created_for == customers[::-1]
    assert all(event["object"] == "event" and event["livemode"] is True for event in listed["data"])

    first_page = _events(stack, key, "?limit=2")
    assert [e["id"] for e in first_page["data"]] == ids[:2] and first_page["has_more"] is True
    second_page = _events(stack, key, f"?limit=2&starting_after={ids[1]}")
    assert [e["id"] for e in second_page["data"]] == ids[2:] and second_page["has_more"] is False
    back = _events(stack, key, f"?limit=2&ending_before={ids[3]}")
    assert [e["id"] for e in back["data"]] == ids[1:3] and back["has_more"] is True

    updated = _events(stack, key, "?type=customer.updated")["data"]
    assert [e["id"] for e in updated] == ids[:1]
    one = stack.call("GET", f"/v1/events/{ids[0]}", key)
    assert one.status == 200 and one.json() == listed["data"][0]


def test_created_range_filters(stack: Stack) -> None:
    key = stack.new_account()["live"]
    stack.call("POST", "/v1/customers", key, {"external_id": "ranged"})
    (event,) = _events(stack, key)["data"]
    created = event["created"]
    assert [e["id"] for e in _events(stack, key, f"?created[gte]={created}")["data"]] == [event["id"]]
    assert [e["id"] for e in _events(stack, key, f"?created[lte]={created}")["data"]] == [event["id"]]
    assert _events(stack, key, f"?created[gt]={created}")["data"] == []
    assert _events(stack, key, f"?created[lt]={created}")["data"] == []
    assert [e["id"] for e in _events(stack, key, f"?created={created}")["data"]] == [event["id"]]


def test_tenants_modes_and_bad_queries(stack: Stack) -> None:
    account = stack.new_account()
    stack.call("POST", "/v1/customers", account["live"], {"external_id": "mine"})
    (event,) = _events(stack, account["live"])["data"]

    other = stack.new_account()["live"]
    assert stack.call("GET", f"/v1/events/{event['id']}", other).status == 404
    assert event["id"] not in [e["id"] for e in _events(stack, other)["data"]]
    assert _events(stack, account["test"])["data"] == []  # the test mode has events of its own
    assert stack.call("GET", f"/v1/events/{event['id']}", account["test"]).status == 404
    assert stack.call("GET", "/v1/events/evt_nope", account["live"]).status == 404

    for query, param in (("?type=no.such", "type"), ("?limit=101", "limit"), ("?created[gte]=soon", "created[gte]")):
        refused = stack.call("GET", "/v1/events" + query, account["live"])
        assert refused.status == 400 and refused.json()["error"]["param"] == param, (query, refused.body)
    assert stack.call("GET", "/v1/events").status == 401

    webhooks_only = stack.call("POST", "/v1/api_keys", account["live"], {"mode": "live", "scopes": ["api:webhooks"]})
    assert [e["id"] for e in _events(stack, webhooks_only.json()["secret"])["data"]] == [event["id"]]
