"""N stateless edges (issue 25 item 1): three edge processes against one core on PostgreSQL, with
calls spread over them as a load balancer would. What each edge keeps (docs/scaling.md) must not
change what a customer is charged or allowed: a cap is never passed, an RPM is exact, every call is
billed once, and a key revoked through one edge stops working on the others within the lease window."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from ringside_server.admission import estimate_nano, estimate_rates
from ringside_server.metering.settlement import price_of
from ringside_server.money_proto import price_from
from ringside_server.openai.estimate import input_tokens_bound
from ringside_server.openai.price_classes import chat_classes
from ringside_server.providers.catalog.load import load_catalog
from tests.e2e.test_concurrency import _cost_nano as cost_nano
from tests.harness import FakeUpstream, Response, Stack, http, wait_until

pytestmark = pytest.mark.postgres
MODEL = "fc:openai/gpt-4o-mini"
EDGES = 3
# Calls per burst: RINGSIDE_TEST_SCALE multiplies them (CI runs 1; a load run, say, 10).
SCALE = max(1, int(os.environ.get("RINGSIDE_TEST_SCALE", "1")))
CONCURRENCY = 24
TOKEN_RPM = 20
BODY = {"model": MODEL, "max_tokens": 20, "messages": [{"role": "user", "content": "one of many, across edges"}]}


@pytest.fixture(scope="module")
def edges(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[tuple[Stack, list[str]]]:
    # a small Client Token limit (no other test here calls with a token): a non-model route's count
    env = {"RINGSIDE_RATE_LIMIT_CLIENT_TOKEN_PER_MIN": str(TOKEN_RPM)}
    stack = Stack("postgres", tmp_path_factory.mktemp("many-edges"), upstream, extra_env=env).start()
    try:
        yield stack, [stack.base_url, *(stack.start_edge() for _ in range(EDGES - 1))]
    finally:
        stack.destroy()


def spread(edges: list[str], key: str, customer: str, calls: int) -> list[Response]:
    """`calls` model calls at once, round-robin over the edges."""

    def one(index: int) -> Response:
        url = edges[index % len(edges)] + "/v1/chat/completions"
        return http("POST", url, key, BODY, headers={"FC-Customer": customer})

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        return list(pool.map(one, range(calls)))


def new_customer(stack: Stack, edge: str, **fields: Any) -> str:
    created = http(
        "POST", edge + "/v1/customers", stack.live_key, {"external_id": "me_" + secrets.token_hex(5), **fields}
    )
    assert created.status == 201, created.body
    return str(created.json()["id"])


def billed(stack: Stack, customer: str) -> tuple[int, int]:
    """(usage records, nano-USD posted) for the customer, from the database."""
    rows = stack.query(
        "SELECT COUNT(*), COALESCE(SUM(posted_nano), 0) FROM usage_records WHERE customer_id = ?", customer
    )
    return int(rows[0][0]), int(rows[0][1])


def one_call_estimate_nano() -> int:
    model = load_catalog()[MODEL]
    price = estimate_rates(price_from(price_of(model)), chat_classes(BODY))
    return estimate_nano(input_tokens_bound(BODY, model.max_image_tokens), 20, 1, price, 0)


def test_a_cap_is_never_passed_and_every_call_is_billed_once_across_edges(edges: tuple[Stack, list[str]]) -> None:
    stack, urls = edges
    one_call = one_call_estimate_nano()
    cap_nano = 60 * SCALE * one_call
    customer = new_customer(stack, urls[1], budget_usd=str(Decimal(cap_nano).scaleb(-9)))
    responses = spread(urls, stack.live_key, customer, 300 * SCALE)
    assert {r.status for r in responses} <= {200, 402}, {r.status for r in responses}
    refused = [r for r in responses if r.status == 402]
    assert all(r.json()["error"]["code"] == "customer_budget_exceeded" for r in refused)
    admitted = len(responses) - len(refused)
    # Each admitted call holds at most one estimate: below cap/estimate there was room for one more.
    assert admitted >= 60 * SCALE, admitted
    records, posted_nano = wait_until(
        lambda: (b := billed(stack, customer))[0] >= admitted and b, 20, "every admitted call to be billed"
    )
    assert records == admitted  # once each, whichever edge served it
    assert posted_nano <= cap_nano  # 0 overspend
    answered = sum(cost_nano(r.json()["usage"]) for r in responses if r.status == 200)
    assert posted_nano == answered
    customer_view = http("GET", f"{urls[2]}/v1/customers/{customer}", stack.live_key).json()
    assert Decimal(str(customer_view["spend_usd_mtd"])).scaleb(9) == posted_nano
    audit = stack.audit()
    assert audit.ok and audit.imbalance_nano_usd == 0 and audit.memory_mismatches == 0, audit


def test_an_rpm_is_exact_across_edges(edges: tuple[Stack, list[str]]) -> None:
    stack, urls = edges
    rpm = 45 * SCALE
    customer = new_customer(stack, urls[0], rate_limit_rpm=rpm)
    responses = spread(urls, stack.live_key, customer, 3 * rpm)
    statuses = [r.status for r in responses]
    assert statuses.count(200) == rpm, statuses
    assert statuses.count(429) == 2 * rpm
    assert {r.json()["error"]["code"] for r in responses if r.status == 429} == {"customer_rate_limit_exceeded"}
    # (a limit kept per edge would have admitted EDGES × rpm here)
    records, _ = wait_until(lambda: (b := billed(stack, customer))[0] >= rpm and b, 20, "the calls to be billed")
    assert records == rpm


def test_a_non_model_route_is_exact_across_edges(edges: tuple[Stack, list[str]]) -> None:
    # Every request counts (DECISIONS 15), not only model calls, and the core keeps the count.
    stack, urls = edges
    customer = new_customer(stack, urls[0])
    origin = "http://localhost:5173"
    minted = http(
        "POST",
        f"{urls[0]}/v1/customers/{customer}/client_tokens",
        stack.live_key,
        {"origin": origin, "allowed_endpoints": ["GET /v1/customers/:id"]},
    )
    assert minted.status == 201, minted.body
    headers = {"Authorization": f"Client {minted.json()['token']}", "Origin": origin}

    def one(index: int) -> Response:
        return http("GET", f"{urls[index % len(urls)]}/v1/customers/{customer}", headers=headers)

    with ThreadPoolExecutor(max_workers=CONCURRENCY) as pool:
        responses = list(pool.map(one, range(2 * TOKEN_RPM)))
    statuses = [r.status for r in responses]
    assert statuses.count(200) == TOKEN_RPM, statuses  # a count kept per edge would admit EDGES × it
    refused = [r for r in responses if r.status == 429]
    assert {r.json()["error"]["code"] for r in refused} == {"client_token_rate_limit_exceeded"}
    assert all(r.headers["access-control-allow-origin"] == origin for r in refused)  # its page reads why
    assert sorted(int(r.headers["x-ratelimit-remaining"]) for r in responses if r.status == 200) == list(
        range(TOKEN_RPM)
    )


def test_a_key_revoked_through_one_edge_is_refused_by_every_edge(edges: tuple[Stack, list[str]]) -> None:
    stack, urls = edges
    made = http("POST", urls[0] + "/v1/api_keys", stack.live_key, {"mode": "live", "name": "many-edges"})
    assert made.status == 201, made.body
    key = made.json()
    customer = new_customer(stack, urls[0])
    # each edge has verified the key and holds a lease for it before the revocation
    for response in spread(urls, key["secret"], customer, 3 * EDGES):
        assert response.status == 200, response.body
    assert http("DELETE", f"{urls[1]}/v1/api_keys/{key['id']}", stack.live_key).status == 200
    for url in urls:
        wait_until(
            lambda url=url: http("POST", url + "/v1/chat/completions", key["secret"], BODY).status == 401,
            10,
            f"{url} to refuse the revoked key",
        )
    audit = stack.audit()
    assert audit.ok, audit
