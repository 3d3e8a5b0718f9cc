"""GET /v1/requests: every model call that passed authentication and validation — served, failed
upstream, or refused — with its usage beside it, newest first; read-your-writes on one edge."""

from __future__ import annotations

import secrets
from decimal import Decimal
from typing import Any

import pytest

from edge_http.openapi.document import load_document
from tests.e2e.test_openapi_live import Contract
from tests.harness import Stack

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends

MODEL = "fc:openai/gpt-4o-mini"
CHAT = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hi"}]}


def _customer(stack: Stack, key: str, **fields: Any) -> str:
    created = stack.call("POST", "/v1/customers", key, {"external_id": "rq_" + secrets.token_hex(5), **fields})
    assert created.status == 201, created.body
    return str(created.json()["id"])


def _rows(stack: Stack, key: str, query: str = "") -> list[dict[str, Any]]:
    listed = stack.call("GET", "/v1/requests" + query, key)
    assert listed.status == 200, listed.body
    return list(listed.json()["data"])


def test_served_and_refused_calls_are_listed_with_their_usage(stack: Stack) -> None:
    key = stack.new_account()["live"]
    contract = Contract(load_document())
    paying = _customer(stack, key, budget_usd=5)
    broke = _customer(stack, key, budget_usd=0)
    served = stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": paying})
    assert served.status == 200, served.body
    refused = stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": broke})
    assert refused.status == 402
    bad_key = stack.call("POST", "/v1/chat/completions", "sk_live_" + "x" * 40, CHAT)
    assert bad_key.status == 401  # not authenticated: never listed

    rows = _rows(stack, key)  # read straight after the calls, on the same edge
    assert [row["id"] for row in rows] == [refused.headers["x-request-id"], served.headers["x-request-id"]]
    no, yes = rows
    assert no["customer_id"] == broke and no["status"] == 402 and no["error_code"] == "customer_budget_exceeded"
    assert no["settled_by"] is None and no["cost_usd"] == 0 and no["resolved_model"] is None
    assert no["model"] == MODEL and no["route"] == "/v1/chat/completions"
    usage = served.json()["usage"]
    assert yes["customer_id"] == paying and yes["status"] == 200 and yes["error_code"] is None
    assert (yes["model"], yes["resolved_model"], yes["settled_by"]) == (MODEL, MODEL, "call")
    assert (yes["input_tokens"], yes["output_tokens"]) == (usage["prompt_tokens"], usage["completion_tokens"])
    spent = stack.call("GET", f"/v1/customers/{paying}", key).json()["spend_usd_mtd"]
    assert Decimal(str(yes["billable_usd"])) == Decimal(str(spent)) and yes["latency_ms"] >= 0
    # the refusal is not a request of the customer's usage
    assert stack.call("GET", f"/v1/customers/{broke}", key).json()["request_count_mtd"] == 0

    listed = stack.call("GET", "/v1/requests?limit=1", key)
    contract.check("GET", "/v1/requests", listed, 200)
    assert listed.json()["has_more"] is True
    contract.check("GET", "/v1/requests/{id}", stack.call("GET", f"/v1/requests/{yes['id']}", key), 200)
    assert _rows(stack, key, f"?customer_id={broke}") == [no]
    assert _rows(stack, key, "?status=402") == [no]
    assert _rows(stack, key, f"?starting_after={no['id']}") == [yes]
    assert _rows(stack, key, f"?ending_before={yes['id']}") == [no]
    # another account sees none of it
    other = stack.new_account()["live"]
    assert _rows(stack, other) == []
    assert stack.call("GET", f"/v1/requests/{yes['id']}", other).status == 404
    assert stack.call("GET", "/v1/requests?status=99", key).status == 400


def test_a_stream_and_a_rate_limited_call_are_listed(stack: Stack) -> None:
    key = stack.new_account()["live"]
    customer = _customer(stack, key, rate_limit_rpm=1)
    first = stack.call("POST", "/v1/chat/completions", key, {**CHAT, "stream": True}, headers={"FC-Customer": customer})
    assert first.status == 200
    limited = stack.call("POST", "/v1/chat/completions", key, CHAT, headers={"FC-Customer": customer})
    assert limited.status == 429
    rows = _rows(stack, key, f"?customer_id={customer}")
    assert [(row["status"], row["error_code"]) for row in rows] == [(429, "customer_rate_limit_exceeded"), (200, None)]
    assert rows[1]["output_tokens"] > 0 and rows[1]["settled_by"] == "call"
