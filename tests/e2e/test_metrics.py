"""GET /metrics after known traffic (issue 21): parsed with prometheus_client's own parser, the
counts exact — by route, exact status and error code; tokens and spend equal to what the ledger
recorded; refusals by reason; the core's metrics port; several edge processes added up."""

from __future__ import annotations

import pathlib
import secrets
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import (
    FakeUpstream,
    Stack,
    free_port,
    http,
    wait_until,
)

MODEL = "fc:openai/gpt-4o-mini"
CHAT = "/v1/chat/completions"


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of a scrape: (name, labels) → value."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    return scrape.get((name, frozenset(labels.items())), 0.0)


def total(scrape: dict[tuple[str, frozenset[tuple[str, str]]], float], name: str, **labels: str) -> float:
    """The sum over every series of `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, found), v in scrape.items() if n == name and wanted <= found)


def scrape(base_url: str, token: str | None = None) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    answer = http("GET", base_url + "/metrics", headers=headers)
    assert answer.status == 200, answer.body
    return samples(answer.body.decode())


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Stack]:
    """A stack of its own: its metrics start at zero, and its core has a metrics port."""
    extra = {"RINGSIDE_CORE_METRICS_PORT": str(free_port())}
    stack = Stack("sqlite", tmp_path_factory.mktemp("metrics"), upstream, extra).start()
    yield stack
    stack.destroy()


def new_customer(stack: Stack, **fields: Any) -> dict[str, Any]:
    created = stack.call(
        "POST", "/v1/customers", stack.live_key, {"external_id": "m_" + secrets.token_hex(4), **fields}
    )
    assert created.status == 201, created.body
    return dict(created.json())


def chat(stack: Stack, key: str, **extra: Any) -> Any:
    client = openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0)
    return client.chat.completions.create(
        model=MODEL, max_tokens=8, messages=[{"role": "user", "content": "count me"}], **extra
    )


def test_known_traffic_gives_exact_counts(observed: Stack) -> None:
    stack = observed
    customer = new_customer(stack)
    broke = new_customer(stack, budget_usd=0)
    completions = [chat(stack, stack.live_key, extra_headers={"FC-Customer": customer["id"]}) for _ in range(3)]
    streamed = chat(stack, stack.live_key, stream=True, stream_options={"include_usage": True})
    stream_usage = [chunk.usage for chunk in streamed if chunk.usage is not None]
    for _ in range(2):
        with pytest.raises(openai.AuthenticationError):
            chat(stack, "sk_live_" + secrets.token_hex(16))
    with pytest.raises(openai.BadRequestError):
        chat(stack, stack.live_key, n=0)
    with pytest.raises(openai.APIStatusError) as refused:
        chat(stack, stack.live_key, extra_headers={"FC-Customer": broke["id"]})
    assert refused.value.status_code == 402
    assert http("GET", stack.base_url + "/no/such/route").status == 404

    metrics = scrape(stack.base_url)
    requests = "ringside_http_requests_total"
    assert value(metrics, requests, route=CHAT, method="POST", status="200", code="") == 4
    assert value(metrics, requests, route=CHAT, method="POST", status="401", code="invalid_api_key") == 2
    assert value(metrics, requests, route=CHAT, method="POST", status="400", code="invalid_request") == 1
    assert value(metrics, requests, route=CHAT, method="POST", status="402", code="customer_budget_exceeded") == 1
    assert value(metrics, requests, route="unmatched", method="GET", status="404", code="not_found") == 1
    assert value(metrics, requests, route="/v1/customers", method="POST", status="201", code="") == 2
    assert value(metrics, "ringside_http_request_duration_seconds_count", route=CHAT) == 8
    # time to first byte and added latency: the metered calls that were admitted, not the refusals
    assert value(metrics, "ringside_http_time_to_first_byte_seconds_count", route=CHAT) == 4
    assert value(metrics, "ringside_http_added_latency_seconds_count", route=CHAT) == 4
    assert value(metrics, "ringside_refusals_total", reason="customer_budget_exceeded") == 1
    assert total(metrics, "ringside_admissions_total") == 4
    assert value(metrics, "ringside_upstream_attempts_total", provider="openai", model=MODEL, outcome="completed") == 4
    assert value(metrics, "ringside_upstream_duration_seconds_count", provider="openai", model=MODEL) == 4

    usages = [c.usage for c in completions] + stream_usage
    assert len(usages) == 4
    assert value(metrics, "ringside_tokens_total", model=MODEL, direction="input") == sum(
        u.prompt_tokens for u in usages
    )
    assert value(metrics, "ringside_tokens_total", model=MODEL, direction="output") == sum(
        u.completion_tokens for u in usages
    )
    # spend: exactly what the ledger records for these calls once the lease has reported them
    recorded = wait_until(
        lambda: (
            (rows := stack.query("SELECT cost_nano, billable_nano FROM usage_records WHERE status = 'completed'"))
            and len(rows) == 4
            and rows
        ),
        10,
        "the four calls to be recorded",
    )
    assert value(metrics, "ringside_cost_nano_usd_total", model=MODEL) == sum(row[0] for row in recorded) > 0
    assert value(metrics, "ringside_billable_nano_usd_total", model=MODEL) == sum(row[1] for row in recorded)
    # no customer label unless RINGSIDE_METRICS_CUSTOMER_LABEL=true
    assert not [
        labels for (name, labels) in metrics if name == "ringside_tokens_total" and dict(labels).get("customer")
    ]

    core = samples(http("GET", f"http://127.0.0.1:{stack.extra_env['RINGSIDE_CORE_METRICS_PORT']}/").body.decode())
    assert value(core, "ringside_core_leases_granted_total") >= 1
    assert value(core, "ringside_core_commit_batch_units_count") >= 1
    assert value(core, "ringside_grpc_requests_total", method="AcquireLease", code="OK") >= 1


def test_metrics_token_and_customer_label(tmp_path: pathlib.Path, upstream: FakeUpstream) -> None:
    token = "metrics-" + secrets.token_hex(12)
    extra = {"RINGSIDE_METRICS_TOKEN": token, "RINGSIDE_METRICS_CUSTOMER_LABEL": "true"}
    stack = Stack("sqlite", tmp_path, upstream, extra).start()
    try:
        assert http("GET", stack.base_url + "/metrics").status == 401
        assert http("GET", stack.base_url + "/metrics", headers={"Authorization": "Bearer wrong"}).status == 401
        customer = stack.call("POST", "/v1/customers", stack.live_key, {"external_id": "c_" + secrets.token_hex(4)})
        customer_id = customer.json()["id"]
        answer = chat(stack, stack.live_key, extra_headers={"FC-Customer": customer_id})
        metrics = scrape(stack.base_url, token)
        assert answer.usage is not None
        tokens = value(metrics, "ringside_tokens_total", model=MODEL, customer=customer_id, direction="output")
        assert tokens == answer.usage.completion_tokens
    finally:
        stack.destroy()


def test_several_edge_processes_add_up(tmp_path: pathlib.Path, upstream: FakeUpstream) -> None:
    """PROMETHEUS_MULTIPROC_DIR shared by two edge processes: either one's /metrics counts both."""
    shared = tmp_path / "prometheus"
    shared.mkdir()
    stack = Stack("sqlite", tmp_path / "stack", upstream, {"PROMETHEUS_MULTIPROC_DIR": str(shared)}).start()
    try:
        second = stack.start_edge()
        for base_url, calls in ((stack.base_url, 2), (second, 3)):
            for _ in range(calls):
                assert http("GET", base_url + "/v1/models", stack.live_key).status == 200
        for base_url in (stack.base_url, second):
            metrics = scrape(base_url)
            assert (
                value(metrics, "ringside_http_requests_total", route="/v1/models", method="GET", status="200", code="")
                == 5
            )
    finally:
        stack.destroy()
