"""The fake upstream, driven by the real OpenAI SDK: if the SDK accepts it, gateways will too."""

from __future__ import annotations

import asyncio
import math
import re
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import openai
import orjson
import pytest
from openai import AsyncOpenAI

from tests.fakes.openai_state import FakeConfig
from tests.fakes.openai_upstream import running_fake
from tests.fakes.openai_wire import completion_tokens

MODEL = "gpt-4o-mini"
MESSAGES: list[Any] = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "Say something in Latin."},
]
RECORD_DEADLINE_S = 3.0


@pytest.fixture
async def base_url() -> AsyncIterator[str]:
    async with running_fake() as url:
        yield url


@pytest.fixture
async def client(base_url: str) -> AsyncIterator[AsyncOpenAI]:
    sdk = AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0)
    yield sdk
    await sdk.close()


def expected_prompt_tokens(messages: list[Any]) -> int:
    return 3 + sum(math.ceil(len(message["content"].encode()) / 4) + 3 for message in messages)


async def post_raw(base_url: str, body: dict[str, Any]) -> tuple[int, bytes]:
    async with (
        aiohttp.ClientSession() as session,
        session.post(f"{base_url}/chat/completions", json=body) as response,
    ):
        return response.status, await response.read()


async def recorded(base_url: str) -> list[dict[str, Any]]:
    async with (
        aiohttp.ClientSession() as session,
        session.get(base_url.removesuffix("/v1") + "/_fake/requests") as response,
    ):
        records: list[dict[str, Any]] = await response.json()
        return records


async def wait_for_last_record(base_url: str, key: str) -> dict[str, Any]:
    """Poll the fake's record until the last request has ``key`` set, or fail at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + RECORD_DEADLINE_S
    while True:
        last = (await recorded(base_url))[-1]
        if last[key] or loop.time() > deadline:
            return last
        await asyncio.sleep(0.02)


async def test_non_stream_answers_in_openai_shape(client: AsyncOpenAI, base_url: str) -> None:
    answer = await client.chat.completions.create(model=MODEL, messages=MESSAGES)

    assert re.fullmatch(r"chatcmpl-[0-9a-f]{24}", answer.id)
    assert answer.model == MODEL
    assert answer.system_fingerprint == "fp_fake"
    assert answer.choices[0].message.content == "".join(completion_tokens(16))
    assert answer.choices[0].finish_reason == "stop"
    assert answer.usage is not None
    assert answer.usage.prompt_tokens == expected_prompt_tokens(MESSAGES)
    assert answer.usage.completion_tokens == 16
    assert answer.usage.total_tokens == answer.usage.prompt_tokens + 16
    status, raw = await post_raw(base_url, {"model": MODEL, "messages": MESSAGES})
    assert status == 200
    assert list(orjson.loads(raw)) == [
        "id",
        "object",
        "created",
        "model",
        "choices",
        "usage",
        "service_tier",
        "system_fingerprint",
    ]
    assert b": " not in raw, "OpenAI serializes compactly"


async def test_stream_without_usage_has_no_usage_anywhere(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(model=MODEL, messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    assert chunks[0].choices[0].delta.content == ""
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert text == "".join(completion_tokens(16))
    assert len(chunks) == 1 + 16 + 1
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert all(chunk.usage is None and chunk.choices for chunk in chunks)
    assert len({chunk.id for chunk in chunks}) == 1


async def test_stream_with_usage_ends_with_a_usage_chunk(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=MODEL, messages=MESSAGES, stream=True, stream_options={"include_usage": True}
    )
    chunks = [chunk async for chunk in stream]

    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.prompt_tokens == expected_prompt_tokens(MESSAGES)
    assert chunks[-1].usage.completion_tokens == 16
    assert all(chunk.usage is None for chunk in chunks[:-1])
    assert chunks[-2].choices[0].finish_reason == "stop"


async def test_usage_frames_are_the_only_difference_on_the_wire(base_url: str) -> None:
    plain_body = {"model": MODEL, "messages": MESSAGES, "stream": True}
    usage_body = {**plain_body, "stream_options": {"include_usage": True}}
    _, plain = await post_raw(base_url, plain_body)
    _, with_usage = await post_raw(base_url, usage_body)

    usage_frames = with_usage.split(b"\n\n")
    assert all(b',"usage":null}' in frame for frame in usage_frames[:-3]), "usage:null is the last member"
    stripped = [frame.replace(b',"usage":null', b"") for frame in usage_frames if b'"choices":[],' not in frame]
    assert b"\n\n".join(stripped) == plain
    assert plain.endswith(b"data: [DONE]\n\n")
    assert b"event:" not in plain


async def test_max_tokens_cut_the_answer_short(client: AsyncOpenAI) -> None:
    answer = await client.chat.completions.create(model=MODEL, messages=MESSAGES, max_tokens=5)
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=MESSAGES,
        max_completion_tokens=3,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]

    assert answer.choices[0].finish_reason == "length"
    assert answer.usage is not None and answer.usage.completion_tokens == 5
    assert answer.choices[0].message.content == "Lorem ipsum dolor sit amet"
    assert "".join(chunk.choices[0].delta.content or "" for chunk in chunks if chunk.choices) == ("Lorem ipsum dolor")
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 3


async def test_text_parts_count_as_prompt(client: AsyncOpenAI) -> None:
    parts = [{"type": "text", "text": "abcdefgh"}, {"type": "text", "text": "ij"}]
    answer = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": parts}],  # type: ignore[list-item, misc]
    )

    assert answer.usage is not None and answer.usage.prompt_tokens == 3 + math.ceil(10 / 4) + 3


async def test_status_markers_fail_like_openai(client: AsyncOpenAI, base_url: str) -> None:
    with pytest.raises(openai.InternalServerError) as server_error:
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "[[fake:status=500]] hello"}]
        )
    with pytest.raises(openai.RateLimitError) as rate_limited:
        await client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "[[fake:status=429]] hello"}]
        )

    assert server_error.value.status_code == 500
    assert server_error.value.type == "server_error"
    assert rate_limited.value.code == "rate_limit_exceeded"
    assert [record["status"] for record in await recorded(base_url)] == [500, 429]


async def test_wrong_api_key_is_refused() -> None:
    async with running_fake(FakeConfig(api_key="right")) as url:
        sdk = AsyncOpenAI(base_url=url, api_key="wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as refused:
            await sdk.chat.completions.create(model=MODEL, messages=MESSAGES)
        await sdk.close()

    assert refused.value.code == "invalid_api_key"


async def test_client_disconnect_is_recorded(client: AsyncOpenAI, base_url: str) -> None:
    stream = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[fake:slow=20]] go"}], stream=True
    )
    received = 0
    async for _ in stream:
        received += 1
        if received == 3:
            break
    await stream.close()

    record = await wait_for_last_record(base_url, "disconnected")
    assert record["disconnected"] is True
    assert record["completed"] is False
    assert record["status"] == 200
    assert 3 <= record["chunks_sent"] < 18
    assert record["body"]["messages"][0]["content"] == "[[fake:slow=20]] go"
    assert record["headers"]["Authorization"] == "Bearer x"


async def test_stall_holds_until_the_client_times_out(base_url: str) -> None:
    sdk = AsyncOpenAI(base_url=base_url, api_key="x", max_retries=0, timeout=0.2)
    with pytest.raises(openai.APITimeoutError):
        await sdk.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "[[fake:stall]] hello"}])
    await sdk.close()

    record = await wait_for_last_record(base_url, "disconnected")
    assert record["disconnected"] is True
    assert record["status"] == 0, "nothing was answered"


async def test_midstream_error_drops_the_stream_after_three_tokens(client: AsyncOpenAI) -> None:
    stream = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[fake:midstream_error]] go"}], stream=True
    )
    contents: list[str] = []
    with pytest.raises(openai.APIConnectionError):
        async for chunk in stream:
            contents.append(chunk.choices[0].delta.content or "")

    assert "".join(contents) == "Lorem ipsum dolor"


async def test_unknown_route_answers_openai_404(base_url: str) -> None:
    async with aiohttp.ClientSession() as session, session.get(f"{base_url}/nope") as response:
        body = await response.json()

    assert response.status == 404
    assert body["error"]["type"] == "invalid_request_error"


async def test_models_are_listed(client: AsyncOpenAI) -> None:
    models = [model.id async for model in client.models.list()]

    assert MODEL in models
