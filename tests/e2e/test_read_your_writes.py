"""Read-your-writes through one edge (issue 14, item 5; DECISIONS.md 14): once a client has the last
byte of an answer, a read through the same edge process includes that call — no sleep, no retry.
On the lease path the call is reported in a batch after it answers; the read sends that batch first.

Runs on the session stacks (leases on, SQLite and PostgreSQL)."""

from __future__ import annotations

import secrets
from decimal import Decimal

import pytest

from tests.harness import Stack

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends

MODEL = "fc:openai/gpt-4o-mini"
CALLS = 12


def nano(usd: object) -> int:
    return int(Decimal(str(usd)).scaleb(9))


def test_a_call_then_a_read_on_the_same_edge_sees_the_call(stack: Stack) -> None:
    user = "ryw_" + secrets.token_hex(4)
    created = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": user})
    customer_id = created.json()["id"]
    headers = {"FC-Customer": customer_id}
    spent = 0
    for index in range(CALLS):
        stream = index % 2 == 1
        body: dict[str, object] = {
            "model": MODEL,
            "max_tokens": 5,
            "stream": stream,
            "messages": [{"role": "user", "content": f"call {index}"}],
        }
        answer = stack.call("POST", "/v1/chat/completions", stack.live_key, body, headers=headers)
        assert answer.status == 200, answer.body[:300]
        read = index % 4
        if read == 0:
            customer = stack.call("GET", f"/v1/customers/{customer_id}", stack.live_key).json()
            assert customer["request_count_mtd"] == index + 1, (index, customer)
            assert nano(customer["spend_usd_mtd"]) > spent
            spent = nano(customer["spend_usd_mtd"])
        elif read == 1:
            usage = stack.call("GET", f"/v1/usage?customer_id={customer_id}", stack.live_key).json()
            assert usage["request_count"] == index + 1, (index, usage)
            assert nano(usage["total_billable_usd"]) > spent
            spent = nano(usage["total_billable_usd"])
        elif read == 2:
            info = stack.call("GET", f"/customer/info?end_user_id={user}", stack.live_key).json()
            assert nano(info["spend"]) > spent, (index, info)
            spent = nano(info["spend"])
        else:
            listed = stack.call("GET", "/v1/customers?limit=100", stack.live_key).json()["data"]
            (customer,) = [c for c in listed if c["id"] == customer_id]
            assert customer["request_count_mtd"] == index + 1, (index, customer)
            spent = nano(customer["spend_usd_mtd"])
