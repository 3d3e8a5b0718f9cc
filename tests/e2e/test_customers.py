"""Customers after creation: PATCH (cap, block, metadata, unset, rename), list, DELETE."""

from __future__ import annotations

import secrets
import threading

import openai
import pytest

from tests.harness import Response, Stack, wait_until

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends

MODEL = "fc:openai/gpt-4o-mini"


def _create(stack: Stack, **fields: object) -> dict[str, object]:
    response = stack.call(
        "POST", "/v1/customers", stack.live_key, {"external_id": "c_" + secrets.token_hex(5), **fields}
    )
    assert response.status == 201, response.body
    return dict(response.json())


def _chat(stack: Stack, customer_id: str, content: str = "hi") -> Response:
    return stack.call(
        "POST",
        "/v1/chat/completions",
        stack.live_key,
        {"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": content}]},
        headers={"FC-Customer": customer_id},
    )


def _patch(stack: Stack, customer_id: str, body: dict[str, object]) -> Response:
    return stack.call("PATCH", f"/v1/customers/{customer_id}", stack.live_key, body)


def test_raising_the_cap_lets_the_next_call_through_at_once(stack: Stack) -> None:
    customer = _create(stack, budget_usd=0)
    refused = _chat(stack, str(customer["id"]))
    assert refused.status == 402 and refused.json()["error"]["code"] == "customer_budget_exceeded"
    state = stack.call("GET", f"/v1/customers/{customer['id']}", stack.live_key).json()
    assert state["budget_status"] == "exceeded"
    raised = _patch(stack, str(customer["id"]), {"budget_usd": 1})
    assert raised.status == 200 and raised.json()["budget_usd"] == 1 and raised.json()["budget_status"] == "ok"
    assert _chat(stack, str(customer["id"])).status == 200


def test_blocked_customers_get_403_until_unblocked(stack: Stack) -> None:
    customer = _create(stack)
    assert _chat(stack, str(customer["id"])).status == 200
    assert _patch(stack, str(customer["id"]), {"blocked": True}).json()["blocked"] is True
    # A lease already granted to the edge admits for at most its window (1 s), then the block holds.
    blocked = wait_until(lambda: (r := _chat(stack, str(customer["id"]))).status == 403 and r, 5, "the block")
    assert blocked.json()["error"]["code"] == "customer_blocked"
    assert _patch(stack, str(customer["id"]), {"blocked": False}).status == 200
    assert _chat(stack, str(customer["id"])).status == 200


def test_patch_merges_metadata_unsets_and_renames(stack: Stack) -> None:
    customer = _create(stack, budget_usd="2.5", metadata={"plan": "pro", "seat": 3}, rate_limit_rpm=60)
    cid = str(customer["id"])
    changed = _patch(stack, cid, {"metadata": {"seat": None, "region": "eu"}, "name": "Ada"}).json()
    assert changed["metadata"] == {"plan": "pro", "region": "eu"} and changed["name"] == "Ada"
    assert _patch(stack, cid, {"budget_usd": None}).json()["budget_usd"] is None  # explicit: no cap
    assert _patch(stack, cid, {"monthly_budget_usd": 7}).json()["budget_usd"] == 7
    unset = _patch(stack, cid, {"unset": ["budget_usd", "rate_limit_rpm"]}).json()
    assert unset["budget_usd"] is None and unset["rate_limit_rpm"] is None
    new_external = "renamed_" + secrets.token_hex(4)
    assert _patch(stack, cid, {"external_id": new_external}).status == 200
    assert stack.call("GET", f"/v1/customers/ext:{new_external}", stack.live_key).json()["id"] == cid
    assert stack.call("GET", f"/v1/customers/ext:{customer['external_id']}", stack.live_key).status == 404
    other = _create(stack)
    taken = _patch(stack, str(other["id"]), {"external_id": new_external})
    assert taken.status == 400 and taken.json()["error"]["param"] == "external_id"
    for bad, param in [
        ({"budget_usd": "x"}, "budget_usd"),
        ({"unset": ["name"]}, "unset"),
        ({"blocked": "yes"}, "blocked"),
        ({"billing_anchor_day": 29}, "billing_anchor_day"),
    ]:
        response = _patch(stack, cid, bad)
        assert response.status == 400 and response.json()["error"]["param"] == param, bad
    assert _patch(stack, "cus_nope", {"name": "x"}).status == 404


def test_list_pages_newest_first_and_filters_by_external_id(stack: Stack) -> None:
    tenant = stack.new_account()
    created = [
        stack.call("POST", "/v1/customers", tenant["live"], {"external_id": f"l{i}"}).json()["id"] for i in range(5)
    ]
    first = stack.call("GET", "/v1/customers?limit=2", tenant["live"]).json()
    assert first["object"] == "list" and [c["id"] for c in first["data"]] == created[::-1][:2] and first["has_more"]
    rest = stack.call("GET", f"/v1/customers?limit=10&starting_after={first['data'][-1]['id']}", tenant["live"]).json()
    assert [c["id"] for c in rest["data"]] == created[::-1][2:] and rest["has_more"] is False
    back = stack.call("GET", f"/v1/customers?limit=2&ending_before={created[0]}", tenant["live"]).json()
    assert [c["id"] for c in back["data"]] == created[::-1][2:4]
    only = stack.call("GET", "/v1/customers?external_id=l3", tenant["live"]).json()
    assert [c["id"] for c in only["data"]] == [created[3]]


def test_delete_keeps_history_and_frees_the_external_id(stack: Stack) -> None:
    customer = _create(stack)
    cid, external = str(customer["id"]), str(customer["external_id"])
    assert _chat(stack, cid).status == 200

    # While its call's reservation (a lease, or a hold) is open the delete is refused; it resolves.
    deleted = wait_until(
        lambda: (r := stack.call("DELETE", f"/v1/customers/{cid}", stack.live_key)).status != 409 and r,
        10,
        "the customer's holds to resolve",
    )
    assert deleted.status == 200 and deleted.json() == {"id": cid, "object": "customer", "deleted": True}
    assert stack.call("GET", f"/v1/customers/{cid}", stack.live_key).status == 404
    assert stack.query("SELECT COUNT(*) FROM usage_records WHERE customer_id = ?", cid)[0][0] == 1
    again = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": external})
    assert again.status == 201 and again.json()["id"] != cid
    with pytest.raises(openai.NotFoundError):
        openai.OpenAI(base_url=stack.base_url + "/v1", api_key=stack.live_key, max_retries=0).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], extra_headers={"FC-Customer": cid}
        )


def test_delete_is_refused_while_a_call_is_in_flight(stack: Stack) -> None:
    customer = _create(stack)
    cid = str(customer["id"])
    done = threading.Event()
    marker = f"[[fake:slow=300]]slow {cid}"
    thread = threading.Thread(target=lambda: (_chat(stack, cid, marker), done.set()), daemon=True)
    thread.start()
    assert stack.upstream is not None
    # the call has its hold once the provider has it (a DELETE before that rightly succeeds)
    wait_until(lambda: marker in str(stack.upstream.requests()[-20:]), 10, "the call to reach the provider")
    refused = wait_until(
        lambda: (r := stack.call("DELETE", f"/v1/customers/{cid}", stack.live_key)).status == 409 and r,
        5,
        "the in-flight call to hold room",
    )
    assert refused.json()["error"]["code"] == "customer_has_balance"
    thread.join(timeout=30)
    assert done.is_set()


def test_customers_are_searched_by_external_id_name_or_email(stack: Stack) -> None:
    """?query= (API.md "Customers"): a case-insensitive substring of external_id, name or email."""
    key = stack.new_account()["live"]
    made = {
        "acme_1": {"name": "Ada Lovelace", "email": "ada@acme.example"},
        "acme_2": {"name": "Grace Hopper", "email": "grace@navy.example"},
        "zeta_3": {"name": "Alan Turing", "email": "alan@ACME.example"},
    }
    ids = {}
    for external_id, fields in made.items():
        ids[external_id] = stack.call("POST", "/v1/customers", key, {"external_id": external_id, **fields}).json()["id"]

    def search(text: str) -> list[str]:
        response = stack.call("GET", f"/v1/customers?limit=100&query={text}", key)
        assert response.status == 200, response.body
        return [row["id"] for row in response.json()["data"]]

    assert search("ACME") == [ids["zeta_3"], ids["acme_2"], ids["acme_1"]]  # external ids and an email
    assert search("hopper") == [ids["acme_2"]]
    assert search("navy.EXAMPLE") == [ids["acme_2"]]
    assert search("nobody") == []
    first = stack.call("GET", "/v1/customers?limit=1&query=acme", key).json()
    assert first["has_more"] is True and [row["id"] for row in first["data"]] == [ids["zeta_3"]]
    too_long = stack.call("GET", "/v1/customers?query=" + "x" * 201, key)
    assert too_long.status == 400 and too_long.json()["error"]["param"] == "query"


def test_a_unicode_digit_in_a_number_is_a_400(stack: Stack) -> None:
    """Issue 15: `limit=²` passed str.isdigit() and then failed in int() with a 500."""
    for path in ("/v1/customers?limit=%C2%B2", "/v1/events?limit=%C2%B2", "/v1/customers?limit=%D9%A3"):
        refused = stack.call("GET", path, stack.live_key)
        assert refused.status == 400 and refused.json()["error"]["param"] == "limit", (path, refused.body)
