"""The fake OpenAI's Files and Batch APIs, driven by the real OpenAI SDK, its batch objects checked
against OpenAI's vendored `Batch` schema: what a gateway forwarding batches will be talking to."""

from __future__ import annotations

import asyncio
import functools
import io
import time
from collections.abc import AsyncIterator
from typing import Any

import openai
import orjson
import pytest
from openai import AsyncOpenAI

from edge_http.openapi.document import load_document
from tests.e2e.test_openapi_live import Contract
from tests.fakes.openai_state import FakeConfig
from tests.fakes.openai_upstream import running_fake

STEP_MS = 20.0
DEADLINE_S = 10.0


@pytest.fixture
async def client() -> AsyncIterator[AsyncOpenAI]:
    async with running_fake(FakeConfig(api_key="k", batch_step_ms=STEP_MS)) as url:
        sdk = AsyncOpenAI(base_url=url, api_key="k", max_retries=0)
        yield sdk
        await sdk.close()


def line(custom_id: str, content: str = "hello", max_tokens: int = 4) -> dict[str, Any]:
    body = {"model": "gpt-4o-mini", "max_tokens": max_tokens, "messages": [{"role": "user", "content": content}]}
    return {"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions", "body": body}


async def upload(client: AsyncOpenAI, lines: list[dict[str, Any]] | bytes) -> str:
    content = lines if isinstance(lines, bytes) else b"".join(orjson.dumps(x) + b"\n" for x in lines)
    uploaded = await client.files.create(file=("in.jsonl", io.BytesIO(content)), purpose="batch")
    assert uploaded.purpose == "batch" and uploaded.bytes == len(content) and uploaded.status == "processed"
    return uploaded.id


async def until(client: AsyncOpenAI, batch_id: str, *statuses: str) -> Any:
    deadline = time.monotonic() + DEADLINE_S
    while (batch := await client.batches.retrieve(batch_id)).status not in statuses:
        assert time.monotonic() < deadline, f"batch {batch_id} still {batch.status}"
        await asyncio.sleep(0.02)
    return batch


@functools.cache
def contract() -> Contract:
    return Contract(load_document())


def schema_errors(batch: dict[str, Any]) -> list[str]:
    """OpenAI sends a step not reached as null, which its published schema does not type: checked
    without those."""
    present = {name: value for name, value in batch.items() if value is not None}
    return contract().errors("/components/schemas/OpenAIBatch", present)


async def file_lines(client: AsyncOpenAI, file_id: str | None) -> list[dict[str, Any]]:
    assert file_id is not None
    return [orjson.loads(x) for x in (await client.files.content(file_id)).content.splitlines()]


async def test_a_batch_runs_to_completion_with_output_and_error_files(client: AsyncOpenAI) -> None:
    lines = [line("a"), line("b", "[[fake:status=500]] fail"), line("c", max_tokens=2)]
    created = await client.batches.create(
        input_file_id=await upload(client, lines), endpoint="/v1/chat/completions", completion_window="24h"
    )
    assert created.status == "validating" and created.in_progress_at is None
    assert schema_errors(created.model_dump()) == []
    done = await until(client, created.id, "completed")
    assert (done.request_counts.total, done.request_counts.completed, done.request_counts.failed) == (3, 2, 1)
    assert done.created_at <= done.in_progress_at <= done.finalizing_at <= done.completed_at
    assert schema_errors(done.model_dump()) == []
    output = await file_lines(client, done.output_file_id)
    assert [x["custom_id"] for x in output] == ["a", "c"]
    assert all(x["response"]["status_code"] == 200 and x["error"] is None for x in output)
    assert [x["response"]["body"]["usage"]["completion_tokens"] for x in output] == [4, 2]
    [failed] = await file_lines(client, done.error_file_id)
    assert failed["custom_id"] == "b" and failed["response"]["status_code"] == 500
    assert failed["response"]["body"]["error"]["type"] == "server_error"
    usage = done.usage
    assert usage is not None and usage.output_tokens == 6
    assert usage.input_tokens == sum(x["response"]["body"]["usage"]["prompt_tokens"] for x in output)
    assert (await client.files.retrieve(done.output_file_id)).purpose == "batch_output"  # type: ignore[arg-type]
    page = await client.batches.list(limit=1)
    assert [b.id for b in page.data] == [created.id]


async def test_a_cancel_stops_the_lines_and_an_embeddings_batch_answers_embeddings(client: AsyncOpenAI) -> None:
    file_id = await upload(client, [line(f"n{n}") for n in range(50)])
    created = await client.batches.create(
        input_file_id=file_id, endpoint="/v1/chat/completions", completion_window="24h"
    )
    await until(client, created.id, "in_progress")
    assert (await client.batches.cancel(created.id)).status == "cancelling"
    done = await until(client, created.id, "cancelled")
    assert done.cancelled_at and done.request_counts.completed < 50
    assert len(await file_lines(client, done.output_file_id)) == done.request_counts.completed
    with pytest.raises(openai.BadRequestError):  # a finished batch cannot be cancelled
        await client.batches.cancel((await until(client, await embeddings_batch(client), "completed")).id)


async def embeddings_batch(client: AsyncOpenAI) -> str:
    body = {"model": "text-embedding-3-small", "input": "some text"}
    lines = [{"custom_id": "e", "method": "POST", "url": "/v1/embeddings", "body": body}]
    created = await client.batches.create(
        input_file_id=await upload(client, lines), endpoint="/v1/embeddings", completion_window="24h"
    )
    done = await until(client, created.id, "completed")
    [answered] = await file_lines(client, done.output_file_id)
    assert answered["response"]["body"]["object"] == "list" and answered["response"]["body"]["data"]
    return created.id


async def test_a_bad_input_file_fails_the_batch_naming_its_line(client: AsyncOpenAI) -> None:
    created = await client.batches.create(
        input_file_id=await upload(client, orjson.dumps(line("a")) + b"\n{not json\n"),
        endpoint="/v1/chat/completions",
        completion_window="24h",
    )
    failed = await until(client, created.id, "failed")
    assert failed.errors is not None and failed.errors.data is not None
    assert [(e.code, e.line) for e in failed.errors.data] == [("invalid_json_line", 2)]
    assert failed.failed_at and failed.output_file_id is None


async def test_refusals_speak_openais_errors(client: AsyncOpenAI) -> None:
    with pytest.raises(openai.NotFoundError):
        await client.batches.retrieve("batch_missing")
    with pytest.raises(openai.NotFoundError):
        await client.batches.create(input_file_id="file-missing", endpoint="/v1/embeddings", completion_window="24h")
    with pytest.raises(openai.BadRequestError):
        await client.batches.create(
            input_file_id=await upload(client, [line("a")]),
            endpoint="/v1/chat/completions",
            completion_window="1h",  # type: ignore[arg-type]
        )
    stranger = client.with_options(api_key="wrong")
    with pytest.raises(openai.AuthenticationError):
        await stranger.batches.list()
    file_id = await upload(client, [line("a")])
    assert (await client.files.delete(file_id)).deleted
    with pytest.raises(openai.NotFoundError):
        await client.files.content(file_id)
