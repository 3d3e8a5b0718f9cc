"""The Anthropic fake read by the real `anthropic` SDK: if the SDK parses its answers, streams and
errors, the fake speaks Anthropic's wire format (and the SDK's own headers are what it checks)."""

from __future__ import annotations

import json

import anthropic as anthropic_sdk
import pytest

from tests.fakes.anthropic_upstream import TOOL_INPUT
from tests.harness import FakeProvider

MODEL = "claude-haiku-4-5"
TOOL = {"name": "get_weather", "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}


def sdk(fake: FakeProvider) -> anthropic_sdk.Anthropic:
    return anthropic_sdk.Anthropic(api_key=fake.api_key, base_url=fake.base_url, max_retries=0)


def test_the_sdk_reads_a_message_with_cache_usage(anthropic: FakeProvider) -> None:
    message = sdk(anthropic).messages.create(
        model=MODEL, max_tokens=50, system="brief", messages=[{"role": "user", "content": "hi [[fake:cache]]"}]
    )
    assert message.stop_reason == "end_turn" and message.content[0].type == "text"
    assert (message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens) == (100, 50)
    seen = anthropic.requests()[-1]["headers"]
    assert seen["Authorization"] == f"Bearer {anthropic.api_key}" and "anthropic-version" in seen


def test_the_sdks_stream_accumulates_text_and_a_tool_call(anthropic: FakeProvider) -> None:
    with sdk(anthropic).messages.stream(
        model=MODEL,
        max_tokens=50,
        tools=[TOOL],
        messages=[{"role": "user", "content": "[[fake:tool]]"}],  # type: ignore[list-item]
    ) as stream:
        final = stream.get_final_message()
    assert final.stop_reason == "tool_use"
    tool = final.content[1]
    assert tool.type == "tool_use" and tool.name == "get_weather"
    assert tool.input == {"city": "Paris", "unit": "c"} == json.loads(TOOL_INPUT)
    assert final.usage.output_tokens == 12


@pytest.mark.parametrize(
    ("status", "error"), [(529, anthropic_sdk.APIStatusError), (429, anthropic_sdk.RateLimitError)]
)
def test_the_sdk_reads_the_fakes_errors(anthropic: FakeProvider, status: int, error: type[Exception]) -> None:
    with pytest.raises(error) as raised:
        sdk(anthropic).messages.create(
            model=MODEL, max_tokens=5, messages=[{"role": "user", "content": f"[[anthropic:status={status}]]"}]
        )
    assert raised.value.status_code == status  # type: ignore[attr-defined]
    assert raised.value.body["error"]["type"] in ("overloaded_error", "rate_limit_error")  # type: ignore[attr-defined]
