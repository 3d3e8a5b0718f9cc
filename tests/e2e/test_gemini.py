"""The Gemini provider end to end: the real OpenAI SDK → Ringside → a fake speaking Gemini's
generateContent wire format (tests/fakes/gemini_upstream.py), both ways, streaming included, metered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import openai
import pytest

from ringside_server.providers.catalog.load import load_catalog
from tests.e2e.native import LOREM, TOOLS, WEATHER, sqlite_stack, text_and_image
from tests.e2e.test_chat_completions import client, new_customer, settled
from tests.harness import FakeProvider, Stack

MODEL = "fc:gemini/gemini-2.5-flash"


@pytest.fixture(scope="module")
def gstack(tmp_path_factory: pytest.TempPathFactory, gemini: FakeProvider) -> Iterator[Stack]:
    env = {"GEMINI_API_KEY": gemini.api_key, "GOOGLE_GEMINI_BASE_URL": gemini.base_url}
    yield from sqlite_stack(tmp_path_factory, "gstack", env)


def last(gemini: FakeProvider) -> dict[str, Any]:
    return gemini.requests()[-1]


def test_text_with_system_image_and_stop_both_ways(gstack: Stack, gemini: FakeProvider) -> None:
    raw = client(gstack).chat.completions.with_raw_response.create(
        model=MODEL,
        messages=[
            {"role": "system", "content": "Be brief."},
            {
                "role": "user",
                "content": text_and_image("What?"),
            },
        ],
        max_tokens=100,
        stop="END",
    )
    reply = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == MODEL
    assert reply.choices[0].message.content == LOREM and reply.choices[0].finish_reason == "stop"
    seen = last(gemini)
    assert seen["path"] == "/v1/models/gemini-2.5-flash:generateContent"
    assert seen["headers"]["x-goog-api-key"] == gemini.api_key and "Authorization" not in seen["headers"]
    body = seen["body"]
    assert body["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert body["contents"][0]["parts"][1] == {"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}}
    assert body["generationConfig"] == {"maxOutputTokens": 100, "stopSequences": ["END"]}


def test_max_tokens_is_length(gstack: Stack) -> None:
    reply = client(gstack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], max_tokens=2
    )
    assert (reply.choices[0].message.content, reply.choices[0].finish_reason) == ("Lorem ipsum", "length")


def test_function_calls_and_results_both_ways(gstack: Stack, gemini: FakeProvider) -> None:
    reply = client(gstack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[fake:tool]]"}], tools=TOOLS, tool_choice="required"
    )
    choice = reply.choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.tool_calls
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "Paris", "unit": "c"}  # type: ignore[union-attr]
    sent = last(gemini)["body"]
    declaration = {"name": "get_weather", "description": "Weather of a city", "parameters": WEATHER}
    assert sent["tools"] == [{"functionDeclarations": [declaration]}]
    assert sent["toolConfig"] == {"functionCallingConfig": {"mode": "ANY"}}
    client(gstack).chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "weather?"},
            choice.message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "21 C"},
        ],
        tools=TOOLS,
    )
    turns = last(gemini)["body"]["contents"]
    assert turns[1]["role"] == "model" and turns[1]["parts"][-1]["functionCall"]["name"] == "get_weather"
    assert turns[2] == {
        "role": "user",
        "parts": [{"functionResponse": {"id": call.id, "name": "get_weather", "response": {"result": "21 C"}}}],
    }


def test_a_streamed_function_call_and_text(gstack: Stack) -> None:
    chunks = list(
        client(gstack).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "[[fake:tool]]"}], tools=TOOLS, stream=True
        )
    )
    calls = [c for chunk in chunks for c in (chunk.choices[0].delta.tool_calls or [])]
    assert [(c.index, c.function.name) for c in calls] == [(0, "get_weather")]  # type: ignore[union-attr]
    assert chunks[-1].choices[0].finish_reason == "tool_calls"
    text = client(gstack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hi"}], stream=True
    )
    assert "".join(c.choices[0].delta.content or "" for c in text) == LOREM


def test_cached_and_thinking_tokens_are_reported_and_billed_at_their_prices(gstack: Stack) -> None:
    customer = str(new_customer(gstack)["id"])
    stream = client(gstack).chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "[[fake:cache]][[fake:think]] hi"}],
        stream=True,
        stream_options={"include_usage": True},
        extra_headers={"FC-Customer": customer},
    )
    chunks = list(stream)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == LOREM  # no thought text
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens_details and usage.completion_tokens_details
    assert (usage.prompt_tokens_details.cached_tokens, usage.completion_tokens_details.reasoning_tokens) == (100, 5)
    assert usage.completion_tokens == 13
    prices = load_catalog()[MODEL].prices
    fresh = usage.prompt_tokens - 100
    cost = fresh * prices["input"] + 100 * prices["cached_input"] + 8 * prices["output"] + 5 * prices["reasoning"]
    after = settled(gstack, customer, 1)
    assert Decimal(str(after["spend_usd_mtd"])) == Decimal(-(-cost // 1_000_000)).scaleb(-9)


@pytest.mark.parametrize(
    ("status", "expected", "code"),
    [(503, 503, "model_unavailable"), (429, 429, "rate_limit_exceeded"), (400, 400, "invalid_request")],
)
def test_gemini_errors_arrive_in_the_envelope(gstack: Stack, status: int, expected: int, code: str) -> None:
    with pytest.raises(openai.APIStatusError) as failure:
        client(gstack).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": f"[[gemini:status={status}]]"}]
        )
    assert failure.value.status_code == expected
    assert failure.value.body["code"] == code  # type: ignore[index]
