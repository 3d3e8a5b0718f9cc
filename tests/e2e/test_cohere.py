"""The Cohere provider end to end: the real OpenAI SDK → Ringside → a fake speaking Cohere's v2
chat wire format (tests/fakes/cohere_upstream.py), both ways, streaming included, metered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import openai
import pytest

from ringside_server.providers.catalog.load import load_catalog
from tests.e2e.native import LOREM, TOOLS, sqlite_stack
from tests.e2e.test_chat_completions import client, new_customer, settled
from tests.harness import FakeProvider, Stack

MODEL = "fc:cohere/command-a-03-2025"


@pytest.fixture(scope="module")
def cstack(tmp_path_factory: pytest.TempPathFactory, cohere: FakeProvider) -> Iterator[Stack]:
    env = {"CO_API_KEY": cohere.api_key, "CO_API_URL": cohere.base_url}
    yield from sqlite_stack(tmp_path_factory, "cstack", env)


def test_text_is_billed_at_coheres_billed_units(cstack: Stack, cohere: FakeProvider) -> None:
    customer = str(new_customer(cstack)["id"])
    reply = client(cstack).chat.completions.create(
        model=MODEL,
        messages=[{"role": "developer", "content": "Be brief."}, {"role": "user", "content": "hi"}],
        top_p=0.5,
        stop="END",
        max_tokens=50,
        extra_headers={"FC-Customer": customer},
    )
    assert reply.choices[0].message.content == LOREM and reply.choices[0].finish_reason == "stop"
    sent = cohere.requests()[-1]
    assert sent["path"] == "/v2/chat" and sent["headers"]["Authorization"] == f"Bearer {cohere.api_key}"
    assert sent["body"]["messages"][0] == {"role": "system", "content": "Be brief."}
    assert (sent["body"]["p"], sent["body"]["stop_sequences"], sent["body"]["max_tokens"]) == (0.5, ["END"], 50)
    assert reply.usage is not None and reply.usage.completion_tokens == 8  # billed_units, not tokens (+3)
    prices = load_catalog()[MODEL].prices
    cost = reply.usage.prompt_tokens * prices["input"] + 8 * prices["output"]
    after = settled(cstack, customer, 1)
    assert Decimal(str(after["spend_usd_mtd"])) == Decimal(-(-cost // 1_000_000)).scaleb(-9)


def test_a_streamed_tool_call_and_its_result(cstack: Stack, cohere: FakeProvider) -> None:
    chunks = list(
        client(cstack).chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "[[fake:tool]]"}],
            tools=TOOLS,
            tool_choice="required",
            stream=True,
        )
    )
    calls = [c for chunk in chunks if chunk.choices for c in (chunk.choices[0].delta.tool_calls or [])]
    assert calls[0].id == "get_weather_fake01" and calls[0].function and calls[0].function.name == "get_weather"
    arguments = "".join(c.function.arguments or "" for c in calls if c.function)
    assert json.loads(arguments) == {"city": "Paris", "unit": "c"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert cohere.requests()[-1]["body"]["tool_choice"] == "REQUIRED"
    client(cstack).chat.completions.create(
        model=MODEL,
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": calls[0].id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}
                ],
            },  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": calls[0].id, "content": "21 C"},
        ],
        tools=TOOLS,
    )
    assert cohere.requests()[-1]["body"]["messages"][2] == {
        "role": "tool",
        "tool_call_id": calls[0].id,
        "content": "21 C",
    }


def test_a_stream_without_include_usage_has_none(cstack: Stack) -> None:
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    through = cstack.call("POST", "/v1/chat/completions", cstack.live_key, body)
    assert through.status == 200 and b'"usage"' not in through.body and through.body.endswith(b"data: [DONE]\n\n")


@pytest.mark.parametrize(("status", "expected"), [(429, 429), (503, 503), (400, 400)])
def test_cohere_errors_arrive_in_the_envelope(cstack: Stack, status: int, expected: int) -> None:
    with pytest.raises(openai.APIStatusError) as failure:
        client(cstack).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": f"[[cohere:status={status}]]"}]
        )
    assert failure.value.status_code == expected
