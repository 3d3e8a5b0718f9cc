"""The billing routes through the edge, on SQLite and PostgreSQL: a customer's closed periods (a
Stripe-style list; other tenants' and other customers' are invisible), stripe_customer_id, and the
Stripe settings and sync status routes (closing and syncing themselves: tests/workers/)."""

from __future__ import annotations

import secrets

import pytest

from tests.harness import Stack

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends


def _customer(stack: Stack, **fields: object) -> dict[str, object]:
    body = {"external_id": "b_" + secrets.token_hex(5), **fields}
    response = stack.call("POST", "/v1/customers", stack.live_key, body)
    assert response.status == 201, response.body
    return dict(response.json())


def test_periods_list_is_a_stripe_list_and_stays_in_its_tenant(stack: Stack) -> None:
    customer = _customer(stack)
    listed = stack.call("GET", f"/v1/customers/{customer['id']}/periods?limit=5", stack.live_key)
    assert listed.status == 200, listed.body
    assert listed.json() == {
        "object": "list",
        "data": [],
        "has_more": False,
        "url": f"/v1/customers/{customer['id']}/periods",
    }
    by_external = stack.call("GET", f"/v1/customers/ext:{customer['external_id']}/periods", stack.live_key)
    assert by_external.status == 200
    other = stack.new_account()["live"]
    assert stack.call("GET", f"/v1/customers/{customer['id']}/periods", other).json()["error"]["code"] == (
        "customer_not_found"
    )
    assert stack.call("GET", f"/v1/customers/{customer['id']}/periods", stack.test_key).status == 404
    bad = stack.call("GET", f"/v1/customers/{customer['id']}/periods?limit=101", stack.live_key)
    assert bad.status == 400 and bad.json()["error"]["param"] == "limit"


def test_stripe_customer_id_is_set_at_create_and_by_patch(stack: Stack) -> None:
    customer = _customer(stack, stripe_customer_id="cus_StripeOne")
    assert customer["stripe_customer_id"] == "cus_StripeOne"
    patched = stack.call("PATCH", f"/v1/customers/{customer['id']}", stack.live_key, {"stripe_customer_id": "cus_Two"})
    assert patched.status == 200 and patched.json()["stripe_customer_id"] == "cus_Two"
    cleared = stack.call("PATCH", f"/v1/customers/{customer['id']}", stack.live_key, {"stripe_customer_id": ""})
    assert cleared.json()["stripe_customer_id"] is None
    too_long = stack.call("PATCH", f"/v1/customers/{customer['id']}", stack.live_key, {"stripe_customer_id": "c" * 256})
    assert too_long.status == 400 and too_long.json()["error"]["param"] == "stripe_customer_id"


def test_stripe_settings_and_syncs_before_any_run(stack: Stack) -> None:
    account = stack.new_account()
    assert stack.call("GET", "/v1/billing/stripe", account["live"]).status == 404
    syncs = stack.call("GET", "/v1/billing/stripe/syncs", account["live"]).json()
    assert (syncs["data"], syncs["lag_seconds"], syncs["failing_customers"]) == ([], None, 0)
    key = "sk_live_" + secrets.token_hex(12)
    put = stack.call("PUT", "/v1/billing/stripe", account["live"], {"secret_key": key, "meter_event_name": "ai_spend"})
    assert put.status == 200, put.body
    assert put.json()["value"] == "billable_cents" and key not in put.body.decode()
    for wrong in ("pk_live_" + "x" * 24, "whsec_" + "x" * 24):  # a publishable key; a webhook secret
        refused = stack.call(
            "PUT", "/v1/billing/stripe", account["live"], {"secret_key": wrong, "meter_event_name": "e"}
        )
        assert refused.status == 400 and refused.json()["error"]["param"] == "secret_key"
    # staging: a live account may push to Stripe's test mode; a test account never reaches live Stripe
    staging = stack.call(
        "PUT", "/v1/billing/stripe", account["live"], {"secret_key": "rk_test_" + "x" * 24, "meter_event_name": "e"}
    )
    assert staging.status == 200, staging.body
    for live_key in ("sk_live_" + "x" * 24, "rk_live_" + "x" * 24):
        refused = stack.call(
            "PUT", "/v1/billing/stripe", account["test"], {"secret_key": live_key, "meter_event_name": "e"}
        )
        assert refused.status == 400 and refused.json()["error"]["param"] == "secret_key"
    # the test mode has settings of its own
    assert stack.call("GET", "/v1/billing/stripe", account["test"]).status == 404
