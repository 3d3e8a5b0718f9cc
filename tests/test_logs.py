"""RINGSIDE_LOG_FORMAT=json on a whole `ringside up` run (issue 21, item 3): every line it prints —
its own, each role's, the Temporal dev server's — is a JSON object; each request gives one info line
with its request id, route, status, error code, customer, model, tokens, cost and latency; and no
secret of the run (API keys, the admin key, the internal token, a Client Token, a webhook secret,
the upstream key, the metrics token) appears on any line."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator
from typing import Any

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.harness import FakeUpstream, free_port, http, wait_until
from tests.test_cli_up import Up, credentials
from tests.workers.webhook_receiver import Receiver
from workers.webhooks.shared import ACTIVITY_NAME

MODEL = "fc:openai/gpt-4o-mini"
ORIGIN = "http://localhost:5173"
CHAT = "/v1/chat/completions"
ADMIN_KEY = "rsadmin_" + secrets.token_hex(20)
INTERNAL_TOKEN = "rsint_" + secrets.token_hex(20)
METRICS_TOKEN = "metrics_" + secrets.token_hex(20)


@pytest.fixture(scope="module")
def receiver() -> Iterator[Receiver]:
    running = Receiver.start()
    yield running
    running.stop()


def scrape(port: int) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    """A role's metrics port: (name, sorted labels) → value."""
    text = http("GET", f"http://127.0.0.1:{port}/metrics").body.decode()
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def call(up: Up, method: str, path: str, key: str, body: Any = None, **headers: str) -> Any:
    answer = http(method, up.base_url + path, key, body, headers=headers)
    assert answer.status < 300, answer.body
    return answer.json()


def test_a_json_run_prints_json_request_lines_and_no_secret(
    tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream, receiver: Receiver
) -> None:
    work = tmp_path_factory.mktemp("json-logs")
    extra = {
        "RINGSIDE_LOG_FORMAT": "json",
        "RINGSIDE_LOG_LEVEL": "INFO",
        "RINGSIDE_ADMIN_KEY": ADMIN_KEY,
        "RINGSIDE_INTERNAL_TOKEN": INTERNAL_TOKEN,
        "RINGSIDE_METRICS_TOKEN": METRICS_TOKEN,
        "RINGSIDE_WEBHOOK_ALLOWED_NETWORKS": "127.0.0.1/32",
        "OPENAI_BASE_URL": upstream.base_url,
        "OPENAI_API_KEY": upstream.api_key,
    }
    core_metrics, worker_metrics = free_port(), free_port()
    extra |= {"RINGSIDE_CORE_METRICS_PORT": str(core_metrics), "RINGSIDE_WORKER_METRICS_PORT": str(worker_metrics)}
    up = Up.start(work / "data", work / "up.log", extra_env=extra)
    secrets_seen: list[str] = [ADMIN_KEY, INTERNAL_TOKEN, METRICS_TOKEN, upstream.api_key]
    try:
        up.wait_healthy()
        keys = credentials(up.data_dir)
        live = keys["api_key"]
        secrets_seen += [live, keys["test_api_key"]]
        endpoint = call(up, "POST", "/v1/webhooks", live, {"url": receiver.url, "events": ["customer.created"]})
        secrets_seen.append(endpoint["secret"])
        customer = call(up, "POST", "/v1/customers", live, {"external_id": "logs_" + secrets.token_hex(4)})
        wait_until(lambda: receiver.events("customer.created", customer["id"]), 30, "the webhook delivery")
        new_key = call(up, "POST", "/v1/api_keys", live, {"name": "second"})
        secrets_seen.append(new_key["secret"])
        minted = call(
            up,
            "POST",
            f"/v1/customers/{customer['id']}/client_tokens",
            live,
            {"origin": ORIGIN, "allowed_endpoints": [f"POST {CHAT}"], "ttl_seconds": 300},
        )
        secrets_seen.append(minted["token"])
        body = {"model": MODEL, "max_tokens": 8, "messages": [{"role": "user", "content": "hello"}]}
        by_browser = http(
            "POST",
            up.base_url + CHAT,
            None,
            body,
            headers={"Authorization": f"Client {minted['token']}", "Origin": ORIGIN},
        )
        assert by_browser.status == 200, by_browser.body
        client = openai.OpenAI(base_url=up.base_url + "/v1", api_key=live, max_retries=0)
        answer = client.chat.completions.with_raw_response.create(
            model=MODEL, max_tokens=8, messages=body["messages"], extra_headers={"FC-Customer": customer["id"]}
        )
        completion = answer.parse()
        with pytest.raises(openai.AuthenticationError):
            openai.OpenAI(
                base_url=up.base_url + "/v1", api_key="sk_live_" + secrets.token_hex(16), max_retries=0
            ).models.list()
        assert http("GET", up.base_url + "/metrics", headers={"Authorization": f"Bearer {METRICS_TOKEN}"}).status == 200
        # the worker's and the core's own metrics ports, after that one webhook delivery
        delivery = ("ringside_worker_activities_total", (("activity", ACTIVITY_NAME), ("outcome", "completed")))
        worker = wait_until(
            lambda: (found := scrape(worker_metrics)).get(delivery) and found, 10, "the delivery's activity"
        )
        assert worker[delivery] == 1
        assert worker[("ringside_webhook_deliveries_total", (("outcome", "delivered"),))] == 1
        assert scrape(core_metrics)[("ringside_core_outbox_lag_seconds_count", ())] >= 1
    finally:
        up.stop()
        up.kill()

    lines = up.log_path.read_text().splitlines()
    parsed = []
    for line in lines:
        entry = json.loads(line)  # every line, whoever printed it
        assert isinstance(entry, dict) and entry["role"], line
        parsed.append(entry)
    for secret in secrets_seen:
        assert not [line for line in lines if secret in line], "a secret was logged"
    roles = {entry.get("role") for entry in parsed}
    assert {"up", "core", "edge", "worker", "rag"} <= roles, roles
    # Temporal's own lines go to its log file only (its warnings are for Temporal's operators)
    assert (up.data_dir / "logs" / "temporal.log").exists()

    requests = [entry for entry in parsed if entry.get("logger") == "ringside.requests"]
    [metered] = [entry for entry in requests if entry["request_id"] == answer.headers["x-request-id"]]
    assert completion.usage is not None
    assert metered["level"] == "info" and metered["route"] == CHAT and metered["status"] == 200
    assert metered["customer_id"] == customer["id"] and metered["model"] == MODEL
    assert metered["input_tokens"] == completion.usage.prompt_tokens
    assert metered["output_tokens"] == completion.usage.completion_tokens
    assert metered["cost_nano_usd"] > 0 and metered["latency_ms"] > 0 and metered["error_code"] is None
    refused = [entry for entry in requests if entry["status"] == 401]
    assert [entry["error_code"] for entry in refused] == ["invalid_api_key"]
    assert refused[0]["route"] == "/v1/models" and refused[0]["request_id"].startswith("req_")
    browser = [entry for entry in requests if entry["route"] == CHAT and entry["status"] == 200]
    assert len(browser) == 2  # the Client Token's call and the key's
