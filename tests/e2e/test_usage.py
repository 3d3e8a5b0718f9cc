"""GET /v1/usage: what the calls were billed, by day, model and customer, for one tenant only."""

from __future__ import annotations

import datetime
from decimal import Decimal

import openai
import pytest

from tests.harness import Stack, wait_until

# Money, holds or stored records: the result can depend on the store (docs/testing.md).
pytestmark = pytest.mark.both_backends

PRICES = {"fc:openai/gpt-4o-mini": (150_000_000, 600_000_000), "fc:openai/gpt-4.1-nano": (100_000_000, 400_000_000)}


def _cost_nano(model: str, prompt: int, completion: int) -> int:
    price_in, price_out = PRICES[model]
    return -(-(prompt * price_in + completion * price_out) // 1_000_000)


def _usd(value: object) -> int:
    return int(Decimal(str(value)).scaleb(9))


def test_usage_adds_up_to_what_the_calls_were_billed(stack: Stack) -> None:
    tenant = stack.new_account()  # a clean account: nothing else of the suite in its usage
    key = tenant["live"]
    customers = [stack.call("POST", "/v1/customers", key, {"external_id": f"u{i}"}).json()["id"] for i in range(2)]
    client = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)
    billed: dict[tuple[str, str], int] = {}
    requests: dict[tuple[str, str], int] = {}
    for index in range(6):
        customer_id, model = customers[index % 2], list(PRICES)[index % 3 % 2]
        completion = client.chat.completions.create(
            model=model,
            max_tokens=5 + index,
            messages=[{"role": "user", "content": f"usage {index}"}],
            extra_headers={"FC-Customer": customer_id},
        )
        assert completion.usage is not None
        cost = _cost_nano(model, completion.usage.prompt_tokens, completion.usage.completion_tokens)
        billed[(customer_id, model)] = billed.get((customer_id, model), 0) + cost
        requests[(customer_id, model)] = requests.get((customer_id, model), 0) + 1

    def report(query: str = "") -> dict[str, object]:
        response = stack.call("GET", "/v1/usage" + query, key)
        assert response.status == 200, response.body
        return dict(response.json())

    total = wait_until(lambda: (r := report())["request_count"] == 6 and r, 10, "the calls to be recorded")
    assert total["object"] == "usage"
    assert _usd(total["total_billable_usd"]) == sum(billed.values())
    assert _usd(total["total_cost_usd"]) == sum(billed.values())  # no markup: cost = billable
    assert _usd(total["total_margin_usd"]) == 0
    assert total["output_tokens"] > 0 and total["input_tokens"] > 0

    by_model = report("?group_by=model")
    assert {row["model"]: _usd(row["total_billable_usd"]) for row in by_model["data"]} == {
        model: sum(v for (_, m), v in billed.items() if m == model) for model in PRICES
    }
    by_customer = report("?group_by=customer")
    assert {row["customer_id"]: row["request_count"] for row in by_customer["data"]} == {
        customer: sum(v for (c, _), v in requests.items() if c == customer) for customer in customers
    }
    today = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d")
    by_day = report(f"?group_by=day&since={today}&until={today}")
    assert [(row["date"], row["request_count"]) for row in by_day["data"]] == [(today, 6)]

    one = report(f"?customer_id={customers[0]}")
    assert _usd(one["total_billable_usd"]) == sum(v for (c, _), v in billed.items() if c == customers[0])
    assert report("?customer_id=ext:u1")["request_count"] == 3

    first = report("?group_by=model&limit=1")
    assert len(first["data"]) == 1 and first["has_more"] is True
    rest = report(f"?group_by=model&limit=1&starting_after={first['data'][0]['model']}")
    assert len(rest["data"]) == 1 and rest["has_more"] is False

    # the suite's own account sees none of this tenant's customers
    assert stack.call("GET", f"/v1/usage?customer_id={customers[0]}", stack.live_key).status == 404


def test_usage_rejects_bad_queries(stack: Stack) -> None:
    for query, param in [
        ("group_by=week", "group_by"),
        ("since=yesterday", "since"),
        ("since=2026-02-01&until=2026-01-01", "until"),
        ("limit=101", "limit"),
        ("since=2020-01-01&until=2026-01-01", "since"),
        ("limit=%C2%B2", "limit"),  # '²' is a digit to str.isdigit(), not to int(): a 400, never a 500
        ("since=%C2%B2", "since"),
    ]:
        response = stack.call("GET", f"/v1/usage?{query}", stack.live_key)
        assert response.status == 400, (query, response.body)
        assert response.json()["error"]["param"] == param, query
    assert stack.call("GET", "/v1/usage?customer_id=cus_nope", stack.live_key).status == 404
    assert stack.call("GET", "/v1/usage", "sk_live_nope").status == 401


def test_top_customers_ranked_by_billable_cost_margin_or_requests(stack: Stack) -> None:
    """group_by=customer with order_by and order (API.md "Usage"): the dashboard's top customers,
    negative margins first with order_by=margin_usd&order=asc, paginated by rank."""
    tenant = stack.new_account()
    key = tenant["live"]
    client = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)
    calls = {"small": 1, "large": 4, "medium": 2}
    for external_id, count in calls.items():
        stack.call("POST", "/v1/customers", key, {"external_id": external_id})
        for index in range(count):
            client.chat.completions.create(
                model="fc:openai/gpt-4o-mini",
                max_tokens=8,
                messages=[{"role": "user", "content": f"rank {external_id} {index}"}],
                extra_headers={"FC-Customer": f"ext:{external_id}"},
            )
    ids = {name: stack.call("GET", f"/v1/customers/ext:{name}", key).json()["id"] for name in calls}
    wait_until(
        lambda: stack.call("GET", "/v1/usage", key).json()["request_count"] == sum(calls.values()), 10, "the calls"
    )

    def ranked(query: str) -> dict[str, object]:
        response = stack.call("GET", "/v1/usage?group_by=customer&" + query, key)
        assert response.status == 200, response.body
        return dict(response.json())

    by_requests = ranked("order_by=request_count")
    assert [row["customer_id"] for row in by_requests["data"]] == [ids["large"], ids["medium"], ids["small"]]
    assert [row["request_count"] for row in by_requests["data"]] == [4, 2, 1]
    ascending = ranked("order_by=billable_usd&order=asc")
    assert [row["customer_id"] for row in ascending["data"]] == [ids["small"], ids["medium"], ids["large"]]

    first = ranked("order_by=request_count&limit=2")
    assert [row["customer_id"] for row in first["data"]] == [ids["large"], ids["medium"]] and first["has_more"]
    rest = ranked(f"order_by=request_count&limit=2&starting_after={ids['medium']}")
    assert [row["customer_id"] for row in rest["data"]] == [ids["small"]] and rest["has_more"] is False

    margins = ranked("order_by=margin_usd&order=asc")["data"]
    assert all(row["total_margin_usd"] == 0 for row in margins)  # no markup: ties, broken by id
    assert [row["customer_id"] for row in margins] == sorted(ids.values())

    for query, param in [
        ("order_by=spend", "order_by"),
        ("order_by=cost_usd&order=up", "order"),
        ("order=asc", "order"),
        ("order_by=cost_usd&starting_after=cus_nope", "starting_after"),
    ]:
        refused = stack.call("GET", "/v1/usage?group_by=customer&" + query, key)
        assert refused.status == 400 and refused.json()["error"]["param"] == param, (query, refused.body)
    model_ranked = stack.call("GET", "/v1/usage?group_by=model&order_by=cost_usd", key)
    assert model_ranked.status == 400 and model_ranked.json()["error"]["param"] == "order_by"
