"""A stack for batches: Temporal, core, edge, the worker (which runs batches) and a webhook receiver
(WebhookStack), with live calls going to the fake OpenAI, slowed so a batch takes long enough to be
cancelled or to have its worker killed mid-way. A second provider, `openai-batch` (the same fake),
has OpenAI's batch API at a 50 % discount: batches of its models are forwarded to the fake's."""

from __future__ import annotations

import io
import json
import pathlib
import secrets
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import openai

from ringside_server.providers.catalog.load import load_catalog
from tests.harness import FakeUpstream, stop_process, wait_until
from tests.workers.webhook_stack import WebhookStack

MODEL = "fc:openai/gpt-4o-mini"
FORWARDED_MODEL = "fc:openai-batch/gpt-4o-mini"
BATCH_DISCOUNT_PCT = 50
BATCH_STEP_MS = "60"  # each step and line of the fake's own batches
PROVIDERS_FILE = f"""
providers:
  - id: openai-batch
    kind: openai
    base_url: https://api.openai.com/v1
    base_url_env: OPENAI_BASE_URL
    key_env: OPENAI_API_KEY
    batch_api: openai
    batch_discount_pct: {BATCH_DISCOUNT_PCT}
    models:
      gpt-4o-mini: {{kind: chat, input: "0.15", output: "0.60", max_output_tokens: 16384, max_image_tokens: 48169}}
"""
UPSTREAM_LATENCY_MS = "150"
CONCURRENCY = "2"
MAX_BATCH_FILE_BYTES = 16 * 1024 * 1024  # RINGSIDE_MAX_BATCH_FILE_BYTES here (200 MiB by default)
FINISH_DEADLINE_S = 90.0


@contextmanager
def batch_stack(
    backend: str, work: pathlib.Path, latency_ms: str = UPSTREAM_LATENCY_MS, concurrency: str = CONCURRENCY
) -> Iterator[WebhookStack]:
    upstream = FakeUpstream.start(work, latency_ms=latency_ms, batch_step_ms=BATCH_STEP_MS)
    providers_file = work / "providers.yaml"
    providers_file.write_text(PROVIDERS_FILE)
    env = {
        "RINGSIDE_PROVIDERS_FILE": str(providers_file),
        "RINGSIDE_BATCH_POLL_S": "0.2",
        "OPENAI_BASE_URL": upstream.base_url,
        "OPENAI_API_KEY": upstream.api_key,
        "RINGSIDE_BATCH_CONCURRENCY": concurrency,
        "RINGSIDE_MAX_BATCH_FILE_BYTES": str(MAX_BATCH_FILE_BYTES),
    }
    try:
        running = WebhookStack.start(backend, work, extra_env=env)
    except BaseException:
        stop_process(upstream.process)
        raise
    try:
        yield running
    finally:
        running.destroy()
        stop_process(upstream.process)


def sdk(hooks: WebhookStack, key: str, customer: str | None = None) -> openai.OpenAI:
    headers = {"FC-Customer": customer} if customer else None
    return openai.OpenAI(base_url=hooks.stack.base_url + "/v1", api_key=key, max_retries=0, default_headers=headers)


def chat_line(custom_id: str, content: str = "hello there", max_tokens: int = 8, model: str = MODEL) -> dict[str, Any]:
    body = {"model": model, "max_tokens": max_tokens, "messages": [{"role": "user", "content": content}]}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


def jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line).encode() + b"\n" for line in lines)


def upload(client: openai.OpenAI, lines: list[dict[str, Any]] | bytes) -> str:
    content = lines if isinstance(lines, bytes) else jsonl(lines)
    return client.files.create(file=("batch.jsonl", io.BytesIO(content)), purpose="batch").id


def submit(client: openai.OpenAI, lines: list[dict[str, Any]]) -> Any:
    return client.batches.create(
        input_file_id=upload(client, lines), endpoint="/v1/chat/completions", completion_window="24h"
    )


def finished(client: openai.OpenAI, batch_id: str, statuses: tuple[str, ...] = ("completed",)) -> Any:
    return wait_until(
        lambda: (batch := client.batches.retrieve(batch_id)).status in statuses and batch,
        FINISH_DEADLINE_S,
        f"batch {batch_id} to be {' or '.join(statuses)}",
        interval_s=0.2,
    )


def file_lines(client: openai.OpenAI, file_id: str | None) -> list[dict[str, Any]]:
    if file_id is None:
        return []
    return [json.loads(line) for line in client.files.content(file_id).content.splitlines() if line]


def cost_of(output: list[dict[str, Any]], discount_pct: int = 0) -> Decimal:
    """What the answered lines cost at the catalog's price of MODEL (less a batch API's discount,
    rounded up), each rounded up as a call is."""
    prices = {name: -(-price * (100 - discount_pct) // 100) for name, price in load_catalog()[MODEL].prices.items()}
    total_nano = 0
    for line in output:
        usage = line["response"]["body"]["usage"]
        per_mtok = usage["prompt_tokens"] * prices["input"] + usage["completion_tokens"] * prices["output"]
        total_nano += -(-per_mtok // 1_000_000)
    return Decimal(total_nano).scaleb(-9)


def new_customer(hooks: WebhookStack, key: str, **fields: Any) -> str:
    return str(hooks.customer(key, external_id="b_" + secrets.token_hex(5), **fields)["id"])


def spend(hooks: WebhookStack, key: str, customer: str) -> Decimal:
    answer = hooks.stack.call("GET", f"/v1/customers/{customer}", key)
    assert answer.status == 200, answer.body
    return Decimal(str(answer.json()["spend_usd_mtd"]))


def open_holds(hooks: WebhookStack, customer: str) -> int:
    rows = hooks.stack.query("SELECT count(*) FROM holds WHERE customer_id = ? AND state = 'open'", customer)
    return int(rows[0][0])


def kill_worker(hooks: WebhookStack) -> None:
    assert hooks.worker is not None
    hooks.worker.send_signal(signal.SIGKILL)
    hooks.worker.wait()
    hooks.worker = None


def upstream_client(hooks: WebhookStack) -> openai.OpenAI:
    """The real SDK speaking to the fake OpenAI itself (what Ringside forwards batches to)."""
    env = hooks.stack.env
    return openai.OpenAI(base_url=env["OPENAI_BASE_URL"], api_key=env["OPENAI_API_KEY"], max_retries=0)


def upstream_batch(hooks: WebhookStack, batch_id: str) -> Any:
    """The fake OpenAI's own batch that Ringside's `batch_id` was forwarded to; None until it is."""
    listed = upstream_client(hooks).batches.list(limit=100).data
    found = [b for b in listed if (b.metadata or {}).get("ringside_batch_id") == batch_id]
    assert len(found) <= 1, found
    return found[0] if found else None
