"""The Anthropic provider end to end: the real OpenAI SDK → Ringside → a fake speaking Anthropic's
Messages wire format (tests/fakes/anthropic_upstream.py), both ways, streaming included, metered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest

from tests.e2e.native import LOREM, TOOLS, sqlite_stack, text_and_image
from tests.e2e.test_chat_completions import client, new_customer, settled
from tests.fakes.anthropic_upstream import TOOL_INPUT
from tests.harness import FakeProvider, Stack

MODEL = "fc:anthropic/claude-haiku-4-5"
KEY = "anthropic-secret"
# claude-haiku-4-5 in nano-USD per 1M tokens: input, cache read, cache write, output
PRICES = (1_000_000_000, 100_000_000, 1_250_000_000, 5_000_000_000)


@pytest.fixture(scope="module")
def astack(tmp_path_factory: pytest.TempPathFactory, anthropic: FakeProvider) -> Iterator[Stack]:
    env = {"ANTHROPIC_API_KEY": anthropic.api_key, "ANTHROPIC_BASE_URL": anthropic.base_url}
    yield from sqlite_stack(tmp_path_factory, "astack", env)


def last_request(anthropic: FakeProvider) -> dict[str, Any]:
    return anthropic.requests()[-1]


def test_text_both_ways_with_system_image_and_the_sdks_wire_habits(astack: Stack, anthropic: FakeProvider) -> None:
    raw = client(astack).chat.completions.with_raw_response.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": text_and_image("What is this?"),
            },
        ],
        max_tokens=100,
        stop=["END"],
    )
    reply = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == MODEL
    assert reply.choices[0].message.content == LOREM
    assert reply.choices[0].finish_reason == "stop"
    sent = last_request(anthropic)
    assert sent["headers"]["Authorization"] == f"Bearer {KEY}" and sent["headers"]["anthropic-version"] == "2026-10-21"
    assert sent["body"]["system"] == [{"type": "text", "text": "Be brief."}]
    assert sent["body"]["stop_sequences"] == ["END"] and sent["body"]["max_tokens"] == 100
    image = sent["body"]["messages"][0]["content"][1]
    assert image == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
    assert reply.usage is not None and reply.usage.completion_tokens == 8


def test_a_max_tokens_stop_is_length(astack: Stack) -> None:
    reply = client(astack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=3
    )
    assert reply.choices[0].finish_reason == "length"
    assert reply.choices[0].message.content == "Lorem ipsum dolor"


def test_tool_calls_and_tool_results_translate_both_ways(astack: Stack, anthropic: FakeProvider) -> None:
    reply = client(astack).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "weather? [[fake:tool]]"}],
        tools=TOOLS,
        tool_choice="required",
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.tool_calls is not None
    call = choice.message.tool_calls[0]
    assert (call.id, call.function.name, json.loads(call.function.arguments)) == (  # type: ignore[union-attr]
        "toolu_fake01",
        "get_weather",
        json.loads(TOOL_INPUT),
    )
    sent = last_request(anthropic)["body"]
    assert sent["tools"][0]["input_schema"] == TOOLS[0]["function"]["parameters"]  # type: ignore[index]
    assert sent["tool_choice"] == {"type": "any"}
    client(astack).chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "weather?"},
            choice.message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": "toolu_fake01", "content": "21 C"},
        ],
        tools=TOOLS,
    )
    turns = last_request(anthropic)["body"]["messages"]
    assert turns[1]["content"][-1] == {
        "type": "tool_use",
        "id": "toolu_fake01",
        "name": "get_weather",
        "input": json.loads(TOOL_INPUT),
    }
    assert turns[2] == {
        "role": "user",
        "content": [{"type": "tool_result", "tool_use_id": "toolu_fake01", "content": "21 C"}],
    }


def test_a_streamed_tool_call_arrives_as_openai_tool_call_deltas(astack: Stack) -> None:
    stream = client(astack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[fake:tool]]"}], tools=TOOLS, stream=True
    )
    text, arguments, names, finish = "", "", [], None
    for chunk in stream:
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for call in delta.tool_calls or ():
            assert call.index == 0
            names += [call.function.name] if call.function and call.function.name else []
            arguments += (call.function.arguments or "") if call.function else ""
        finish = chunk.choices[0].finish_reason or finish
    assert (text, names, json.loads(arguments), finish) == (
        "Let me check.",
        ["get_weather"],
        json.loads(TOOL_INPUT),
        "tool_calls",
    )


def test_a_stream_with_cache_tokens_reports_and_bills_each_class(astack: Stack) -> None:
    customer = new_customer(astack)
    stream = client(astack).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "cached [[fake:cache]]"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"FC-Customer": str(customer["id"])},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == LOREM
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 100
    fresh = usage.prompt_tokens - 100 - 50
    assert fresh > 0 and usage.completion_tokens == 8
    cost = fresh * PRICES[0] + 100 * PRICES[1] + 50 * PRICES[2] + 8 * PRICES[3]
    after = settled(astack, str(customer["id"]), 1)
    assert Decimal(str(after["spend_usd_mtd"])) == Decimal(-(-cost // 1_000_000)).scaleb(-9)


def test_without_include_usage_the_stream_has_no_usage(astack: Stack) -> None:
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    through = astack.call("POST", "/v1/chat/completions", astack.live_key, body)
    assert through.status == 200 and b'"usage"' not in through.body and through.body.endswith(b"data: [DONE]\n\n")
    assert b"event:" not in through.body


@pytest.mark.parametrize(
    ("status", "expected", "code"), [(529, 503, "model_unavailable"), (429, 429, "rate_limit_exceeded")]
)
def test_anthropic_errors_arrive_in_the_envelope(astack: Stack, status: int, expected: int, code: str) -> None:
    with pytest.raises(openai.APIStatusError) as failure:
        client(astack).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": f"[[anthropic:status={status}]]"}]
        )
    assert failure.value.status_code == expected
    assert failure.value.body["code"] == code  # type: ignore[index]


def test_an_error_event_mid_stream_ends_the_stream_with_an_error(astack: Stack) -> None:
    stream = client(astack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[fake:stream_error]]"}], stream=True
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass
