"""Rate limits through the real OpenAI SDK: per customer RPM/TPM, per IP, per account; exact across
two edges; 429s that say how long to wait, and OpenAI's x-ratelimit-* headers on metered answers."""

from __future__ import annotations

import json
import pathlib
import secrets
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx2
import openai
import pytest
from openai import OpenAI

from tests.harness import ADMIN_KEY, FakeUpstream, Stack, wait_until

MODEL = "fc:openai/gpt-4o-mini"


def client(base_url: str, key: str, source_ip: str = "127.0.0.1") -> OpenAI:
    # The SDK's own HTTP client, bound to a source address (127.0.0.0/8 all reach the edge on lo).
    transport = httpx2.HTTPTransport(local_address=source_ip)
    http_client = openai.DefaultHttpxClient(transport=transport, timeout=30)
    return OpenAI(base_url=base_url + "/v1", api_key=key, max_retries=0, http_client=http_client)


def new_customer(stack: Stack, key: str, **fields: Any) -> str:
    created = stack.call("POST", "/v1/customers", key, {"external_id": "rl_" + secrets.token_hex(5), **fields})
    assert created.status == 201, created.body
    return str(created.json()["id"])


def ask(sdk: OpenAI, customer: str | None, content: str = "hello", max_tokens: int = 16) -> Any:
    headers = {"FC-Customer": customer} if customer else {}
    return sdk.chat.completions.with_raw_response.create(
        model=MODEL,
        max_tokens=max_tokens,
        messages=[{"role": "user", "content": content}],
        extra_headers=headers,
    )


def refusal(call: Any) -> openai.RateLimitError:
    with pytest.raises(openai.RateLimitError) as raised:
        call()
    return raised.value


def test_the_call_past_a_customers_rpm_is_429_with_how_long_to_wait(stack: Stack) -> None:
    sdk = client(stack.base_url, stack.live_key)
    customer = new_customer(stack, stack.live_key, rate_limit_rpm=5)
    answers = [ask(sdk, customer) for _ in range(5)]
    assert [a.http_response.status_code for a in answers] == [200] * 5
    assert [a.headers["x-ratelimit-limit-requests"] for a in answers] == ["5"] * 5
    assert [int(a.headers["x-ratelimit-remaining-requests"]) for a in answers] == [4, 3, 2, 1, 0]
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    assert answers[0].headers["x-ratelimit-reset-requests"].endswith("s")

    error = refusal(lambda: ask(sdk, customer))
    assert error.code == "customer_rate_limit_exceeded"
    assert error.body["type"] == "rate_limit_error"  # type: ignore[index]
    headers = error.response.headers
    assert headers["X-RateLimit-Remaining"] == "0"
    assert 1 <= int(headers["retry-after"]) <= 60
    assert 0 < int(headers["retry-after-ms"]) <= 60_000
    assert int(headers["retry-after"]) == -(-int(headers["retry-after-ms"]) // 1000)
    assert headers["x-should-retry"] == "true"
    assert error.body["retry_after_seconds"] == int(headers["retry-after"])  # type: ignore[index]

    # another customer of the same account is not affected
    assert ask(sdk, new_customer(stack, stack.live_key, rate_limit_rpm=5)).http_response.status_code == 200


def test_a_tiers_rpm_limits_its_customers(stack: Stack) -> None:
    tenant = stack.new_account()
    created = stack.call("POST", "/v1/tiers", tenant["live"], {"name": "tiny", "rate_limit_rpm": 2})
    assert created.status == 201, created.body
    customer = new_customer(stack, tenant["live"], tier_id="tiny")
    sdk = client(stack.base_url, tenant["live"])
    ask(sdk, customer)
    ask(sdk, customer)
    assert refusal(lambda: ask(sdk, customer)).code == "customer_rate_limit_exceeded"


def test_two_edges_against_one_core_admit_no_more_than_the_limit_together(stack: Stack) -> None:
    second_edge = stack.start_edge()
    customer = new_customer(stack, stack.live_key, rate_limit_rpm=30)
    clients = [client(stack.base_url, stack.live_key), client(second_edge, stack.live_key)]

    def one(index: int) -> int:
        try:
            return int(ask(clients[index % 2], customer).http_response.status_code)
        except openai.RateLimitError as error:
            assert error.code == "customer_rate_limit_exceeded"
            return 429

    with ThreadPoolExecutor(max_workers=16) as pool:
        statuses = list(pool.map(one, range(90)))
    assert statuses.count(200) == 30, statuses
    assert statuses.count(429) == 60
    recorded = wait_until(
        lambda: (
            (c := stack.call("GET", f"/v1/customers/{customer}", stack.live_key).json())["request_count_mtd"] >= 30
            and c
        ),
        15,
        "the calls to be recorded",
    )
    assert recorded["request_count_mtd"] == 30


def test_tpm_shrinks_the_output_bound_and_refuses_what_can_never_fit(stack: Stack, upstream: FakeUpstream) -> None:
    sdk = client(stack.base_url, stack.live_key)
    customer = new_customer(stack, stack.live_key, rate_limit_tpm=1_000)
    marker = "tpm-" + secrets.token_hex(4)
    answer = ask(sdk, customer, content=marker, max_tokens=5_000)
    assert answer.headers["x-ratelimit-limit-tokens"] == "1000"
    sent = [r["body"] for r in upstream.requests() if marker in json.dumps(r["body"])]
    assert sent, "the call reached the provider"
    assert 1 <= sent[-1]["max_tokens"] < 1_000  # the prompt's bound and the output fit in 1,000 tokens

    error = refusal(lambda: ask(sdk, customer, content="x" * 2_000))
    assert error.code == "customer_rate_limit_exceeded"
    assert error.response.headers["x-should-retry"] == "false"
    assert "retry-after" not in error.response.headers


def test_tokens_held_by_a_call_in_flight_count_until_it_settles(stack: Stack) -> None:
    sdk = client(stack.base_url, stack.live_key)
    customer = new_customer(stack, stack.live_key, rate_limit_tpm=2_000)
    outcome: dict[str, Any] = {}

    def stalled() -> None:  # holds ~1,900 tokens until the upstream timeout (3 s in the harness)
        try:
            ask(sdk, customer, content="[[fake:stall]]", max_tokens=1_800)
        except openai.APIStatusError as error:
            outcome["status"] = error.status_code

    thread = threading.Thread(target=stalled)
    thread.start()
    try:
        wait_until(
            lambda: bool(stack.query("SELECT 1 FROM holds WHERE customer_id = ? AND state = 'open'", customer)),
            10,
            "the stalled call's hold",
        )
        # ~170 tokens of the window are left: not enough for a 400-byte prompt
        error = refusal(lambda: ask(sdk, customer, content="x" * 400, max_tokens=10))
        assert error.code == "customer_rate_limit_exceeded"
        assert error.response.headers["x-should-retry"] == "true"
    finally:
        thread.join(timeout=30)
    assert outcome.get("status") == 504
    # settled as failed: its reservation gave its tokens back
    assert ask(sdk, customer, content="x" * 400, max_tokens=10).http_response.status_code == 200


# A window of a few seconds (RINGSIDE_RATE_LIMIT_WINDOW_S) for seeing one slide: the same limiter as
# the minute's, without waiting out a minute.
SHORT_WINDOW_S = 8


@pytest.fixture(scope="module")
def short_window_stack(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    data_dir: pathlib.Path = tmp_path_factory.mktemp("stack-short-window")
    env = {"RINGSIDE_RATE_LIMIT_WINDOW_S": str(SHORT_WINDOW_S)}
    running = Stack("sqlite", data_dir, upstream, extra_env=env).start()
    yield running
    running.destroy()


def test_after_waiting_retry_after_the_call_passes_and_not_long_before(short_window_stack: Stack) -> None:
    # Windows live in the core's memory: one backend shows it.
    stack = short_window_stack
    sdk = client(stack.base_url, stack.live_key)
    customer = new_customer(stack, stack.live_key, rate_limit_rpm=1)
    ask(sdk, customer)
    error = refusal(lambda: ask(sdk, customer))
    refused_at = time.monotonic()
    wait_s = int(error.response.headers["retry-after-ms"]) / 1000
    assert SHORT_WINDOW_S - 3 < wait_s <= SHORT_WINDOW_S  # the rest of the window the first call opened
    time.sleep(max(0.0, wait_s - 3))
    assert refusal(lambda: ask(sdk, customer)).code == "customer_rate_limit_exceeded"  # not yet
    passed = wait_until(
        lambda: _passes(sdk, customer), wait_s + 10 - (time.monotonic() - refused_at), "the window to slide"
    )
    assert passed


def _passes(sdk: OpenAI, customer: str) -> bool:
    try:
        return bool(ask(sdk, customer).http_response.status_code == 200)
    except openai.RateLimitError:
        time.sleep(0.2)
        return False


# -- the operator's layers (a stack of their own, with small defaults) -----------------------------


@pytest.fixture(scope="module")
def limited_stack(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    data_dir: pathlib.Path = tmp_path_factory.mktemp("stack-limits")
    env = {
        "RINGSIDE_RATE_LIMIT_IP_PER_MIN": "10",
        "RINGSIDE_RATE_LIMIT_ACCOUNT_PER_MIN": "15",
        "RINGSIDE_TRUSTED_PROXIES": "127.0.0.9/32",
        "RINGSIDE_RATE_LIMIT_CLIENT_TOKEN_PER_MIN": "3",
    }
    running = Stack("sqlite", data_dir, upstream, extra_env=env).start()
    yield running
    running.destroy()


_CLIENTS: dict[str, httpx2.Client] = {}


def _from(source_ip: str) -> httpx2.Client:
    """One client per source address for the whole run (building one costs more than a request)."""
    if source_ip not in _CLIENTS:
        _CLIENTS[source_ip] = httpx2.Client(transport=httpx2.HTTPTransport(local_address=source_ip), timeout=30)
    return _CLIENTS[source_ip]


def from_ip(
    base_url: str, source_ip: str, method: str, path: str, key: str | None = None, body: Any = None
) -> httpx2.Response:
    """One request from `source_ip` (127.0.0.0/8 all reach the edge on lo)."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return _from(source_ip).request(method, base_url + path, json=body, headers=headers)


def elsewhere(stack: Stack, method: str, path: str, key: str | None = None, body: Any = None) -> httpx2.Response:
    """A setup request that must not count against the addresses a test measures: through the
    trusted proxy (127.0.0.9) for a client address of its own (every request counts, DECISIONS 15)."""
    headers = {"X-Forwarded-For": f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"}
    if key:
        headers["Authorization"] = f"Bearer {key}"
    return _from("127.0.0.9").request(method, stack.base_url + path, json=body, headers=headers)


def fresh_account(stack: Stack) -> str:
    """A new account's live key (its own account window)."""
    response = elsewhere(stack, "POST", "/v1/accounts", ADMIN_KEY, {"name": "limits"})
    assert response.status_code == 201, response.text
    return str(next(k["secret"] for k in response.json()["api_keys"] if k["livemode"]))


def test_per_ip_then_per_account_limits(limited_stack: Stack) -> None:
    stack = limited_stack
    first_ip = client(stack.base_url, stack.live_key, "127.0.0.1")
    second_ip = client(stack.base_url, stack.live_key, "127.0.0.2")
    answers = [ask(first_ip, None) for _ in range(10)]
    assert answers[-1].headers["x-ratelimit-limit-requests"] == "10"  # the tightest layer: the IP's
    error = refusal(lambda: ask(first_ip, None))
    assert error.code == "ip_rate_limit_exceeded"
    assert error.response.headers["x-should-retry"] == "true"

    for _ in range(5):
        ask(second_ip, None)  # another address: the account's 15 are not spent yet
    assert refusal(lambda: ask(second_ip, None)).code == "account_rate_limit_exceeded"

    # another account behind the same (third) address is unaffected
    assert ask(client(stack.base_url, fresh_account(stack), "127.0.0.3"), None).http_response.status_code == 200


def test_the_client_ip_comes_from_x_forwarded_for_only_behind_a_trusted_proxy(limited_stack: Stack) -> None:
    stack = limited_stack
    # accounts of their own: their 15 calls a minute are untouched
    proxy = client(stack.base_url, fresh_account(stack), "127.0.0.9")
    spoofer = client(stack.base_url, fresh_account(stack), "127.0.0.8")

    def via(sdk: OpenAI, forwarded_for: str) -> Any:
        return sdk.chat.completions.with_raw_response.create(
            model=MODEL,
            max_tokens=4,
            messages=[{"role": "user", "content": "hi"}],
            extra_headers={"X-Forwarded-For": forwarded_for},
        )

    for index in range(10):
        via(spoofer, f"203.0.113.{index}")  # not a trusted proxy: its own address counts, whatever it claims
    assert refusal(lambda: via(spoofer, "203.0.113.99")).code == "ip_rate_limit_exceeded"

    for _ in range(10):  # the proxy's clients are told apart by the address it appended last
        via(proxy, "203.0.113.7, 198.51.100.1")
    assert refusal(lambda: via(proxy, "10.9.9.9, 198.51.100.1")).code == "ip_rate_limit_exceeded"
    assert via(proxy, "198.51.100.2").http_response.status_code == 200


def test_each_client_token_has_its_own_limit(limited_stack: Stack) -> None:
    stack = limited_stack
    key = fresh_account(stack)
    created = elsewhere(stack, "POST", "/v1/customers", key, {"external_id": "rl_" + secrets.token_hex(5)})
    customer = created.json()["id"]
    origin = "http://localhost:5173"

    def token() -> str:
        minted = elsewhere(
            stack,
            "POST",
            f"/v1/customers/{customer}/client_tokens",
            key,
            {"origin": origin, "allowed_endpoints": ["POST /v1/chat/completions"]},
        )
        assert minted.status_code == 201, minted.text
        return str(minted.json()["token"])

    def call(jwt: str, source_ip: str) -> Any:
        transport = httpx2.HTTPTransport(local_address=source_ip)
        with httpx2.Client(transport=transport, timeout=30) as http_client:
            return http_client.post(
                stack.base_url + "/v1/chat/completions",
                json={"model": MODEL, "max_tokens": 4, "messages": [{"role": "user", "content": "hi"}]},
                headers={"Authorization": f"Client {jwt}", "Origin": origin},
            )

    first = token()
    assert [call(first, "127.0.0.4").status_code for _ in range(3)] == [200] * 3
    refused = call(first, "127.0.0.4")
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "client_token_rate_limit_exceeded"
    assert refused.headers["access-control-allow-origin"] == origin  # its page can read why
    assert call(token(), "127.0.0.5").status_code == 200  # another token of the same customer


# -- every request counts, not only model calls (DECISIONS 15) -------------------------------------


def test_unauthenticated_requests_count_against_their_ip_and_then_get_429(limited_stack: Stack) -> None:
    stack = limited_stack
    ip = "127.0.0.21"
    answers = [
        from_ip(stack.base_url, ip, "GET", "/v1/customers"),  # no key
        from_ip(stack.base_url, ip, "POST", "/v1/customers", "sk_live_" + "x" * 40, {"external_id": "a"}),
        from_ip(stack.base_url, ip, "POST", "/v1/chat/completions", None, {"model": MODEL}),  # a model route
        from_ip(stack.base_url, ip, "GET", "/v1/nothing_here"),  # 404
    ]
    assert [a.status_code for a in answers] == [401, 401, 401, 404]
    assert [a.headers["X-RateLimit-Remaining"] for a in answers] == ["9", "8", "7", "6"]
    for _ in range(6):
        assert from_ip(stack.base_url, ip, "GET", "/v1/customers").status_code == 401
    for method, path in (("GET", "/v1/customers"), ("POST", "/v1/chat/completions")):
        refused = from_ip(stack.base_url, ip, method, path, None, {"model": MODEL} if method == "POST" else None)
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "ip_rate_limit_exceeded"
        assert 1 <= int(refused.headers["retry-after"]) <= 60
        assert int(refused.headers["retry-after"]) == -(-int(refused.headers["retry-after-ms"]) // 1000)
        assert refused.headers["X-RateLimit-Remaining"] == "0"
    assert from_ip(stack.base_url, ip, "GET", "/readyz").status_code == 200  # probes are never counted
    # the operator's admin key has no account: its requests count against their IP only
    assert from_ip(stack.base_url, ip, "GET", "/v1/accounts", ADMIN_KEY).status_code == 429
    admin = [from_ip(stack.base_url, "127.0.0.25", "GET", "/v1/accounts", ADMIN_KEY) for _ in range(11)]
    assert [a.status_code for a in admin] == [200] * 10 + [429]
    assert admin[-1].json()["error"]["code"] == "ip_rate_limit_exceeded"
    assert from_ip(stack.base_url, "127.0.0.22", "GET", "/v1/customers").status_code == 401  # another address


def test_admin_routes_count_against_the_ip_and_the_account(limited_stack: Stack) -> None:
    stack = limited_stack
    key = fresh_account(stack)
    first = [from_ip(stack.base_url, "127.0.0.23", "GET", "/v1/customers", key) for _ in range(10)]
    assert [a.status_code for a in first] == [200] * 10
    # the tightest layer that counted each: the IP's 10 (the account's 15 is looser)
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in first] == list(range(9, -1, -1))
    refused = from_ip(stack.base_url, "127.0.0.23", "GET", "/v1/customers", key)
    assert refused.json()["error"]["code"] == "ip_rate_limit_exceeded"
    second = [from_ip(stack.base_url, "127.0.0.24", "GET", "/v1/usage", key) for _ in range(5)]
    assert [a.status_code for a in second] == [200] * 5
    assert [int(a.headers["X-RateLimit-Remaining"]) for a in second] == [4, 3, 2, 1, 0]  # now the account's
    refused = from_ip(stack.base_url, "127.0.0.24", "POST", "/v1/customers", key, {"external_id": "late"})
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "account_rate_limit_exceeded"
    assert refused.headers["x-should-retry"] == "true"
