"""Anthropic's Messages ingress end to end with the real `anthropic` SDK as the client: a bare
Claude name served by a fake speaking Anthropic's wire format, a `match:` ref served by the fake
OpenAI (request and answer translated, streams included), tools, count_tokens, errors in
Anthropic's shape, every call metered to the nano at the catalog price."""

from __future__ import annotations

import contextlib
import http.client
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import anthropic
import pytest

from tests.e2e.native import LOREM
from tests.e2e.test_chat_completions import new_customer, settled
from tests.fakes.anthropic_upstream import SIGNATURE, THINKING
from tests.harness import FakeProvider, FakeUpstream, Stack

HAIKU = "claude-haiku-4-5"
HAIKU_PRICES = (1_000_000_000, 5_000_000_000)  # nano-USD per 1M tokens: input, output
MINI = "match:openai/gpt-mini>=4"  # → fc:openai/gpt-5-mini, served by the fake OpenAI
MINI_PRICES = (250_000_000, 2_000_000_000)
PIXEL = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
WEATHER_TOOL: Any = {
    "name": "get_weather",
    "description": "Weather of a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def mstack(
    tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream, anthropic: FakeProvider
) -> Iterator[Stack]:
    """Both providers configured: the fake Anthropic and the fake OpenAI."""
    env = {"ANTHROPIC_API_KEY": anthropic.api_key, "ANTHROPIC_BASE_URL": anthropic.base_url}
    stack = Stack("sqlite", tmp_path_factory.mktemp("mstack"), upstream, extra_env=env).start()
    yield stack
    stack.destroy()


def sdk(stack: Stack, key: str | None = None, bearer: bool = False, **headers: str) -> anthropic.Anthropic:
    """`api_key=` sends x-api-key; `auth_token=` sends Authorization: Bearer (both must work)."""
    secret = key or stack.live_key
    if bearer:
        return anthropic.Anthropic(base_url=stack.base_url, auth_token=secret, max_retries=0, default_headers=headers)
    return anthropic.Anthropic(base_url=stack.base_url, api_key=secret, max_retries=0, default_headers=headers)


def cost_nano(usage: anthropic.types.Usage, prices: tuple[int, int]) -> int:
    """What the call costs in nano-USD, rounded up (API.md "Money")."""
    return -(-(usage.input_tokens * prices[0] + usage.output_tokens * prices[1]) // 1_000_000)


def spend_nano(stack: Stack, customer: str, requests: int) -> int:
    return int(Decimal(str(settled(stack, customer, requests)["spend_usd_mtd"])).scaleb(9))


@pytest.mark.parametrize("bearer", [False, True])
def test_a_test_key_with_a_bare_claude_name_answers_a_message(mstack: Stack, bearer: bool) -> None:
    raw = sdk(mstack, mstack.test_key, bearer).messages.with_raw_response.create(
        model=HAIKU, max_tokens=100, messages=[{"role": "user", "content": "Hello"}]
    )
    message = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == "fc:anthropic/" + HAIKU
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert message.content[0].type == "text" and message.content[0].text.startswith("This is Ringside's test model")
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens == 28


def test_a_test_key_streams_anthropics_events(mstack: Stack) -> None:
    with sdk(mstack, mstack.test_key).messages.stream(
        model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "Hello"}]
    ) as stream:
        text = "".join(stream.text_stream)
        message = stream.get_final_message()
    assert text == "This is Ringside's test model" and message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 5 and message.usage.input_tokens > 0


def test_count_tokens_counts_what_the_test_model_bills_and_is_not_metered(mstack: Stack) -> None:
    customer = str(new_customer(mstack, mstack.test_key)["id"])
    client = sdk(mstack, mstack.test_key, **{"FC-Customer": customer})
    conversation: Any = [{"role": "user", "content": "How many tokens is this, roughly?"}]
    counted = client.messages.count_tokens(model=HAIKU, system="Be brief.", messages=conversation)
    sent = client.messages.create(model=HAIKU, max_tokens=5, system="Be brief.", messages=conversation)
    assert counted.input_tokens == sent.usage.input_tokens
    assert settled(mstack, customer, 1, mstack.test_key)["request_count_mtd"] == 1  # count_tokens is no call


def test_count_tokens_counts_against_the_customers_rpm(mstack: Stack) -> None:
    # API.md "Rate limits": model routes, count_tokens included, count against the customer's RPM;
    # the SDK authenticates with x-api-key, which counts as the key it names
    customer = str(new_customer(mstack, mstack.test_key, rate_limit_rpm=2)["id"])
    client = sdk(mstack, mstack.test_key, **{"FC-Customer": customer}).with_options(max_retries=0)
    conversation: Any = [{"role": "user", "content": "Count me, within my limit."}]
    for _ in range(2):
        assert client.messages.count_tokens(model=HAIKU, messages=conversation).input_tokens > 0
    with pytest.raises(anthropic.RateLimitError) as refused:
        client.messages.count_tokens(model=HAIKU, messages=conversation)
    assert refused.value.response.headers["X-RateLimit-Remaining"] == "0"
    assert refused.value.response.json()["error"]["type"] == "rate_limit_error"
    assert "customer" in refused.value.response.json()["error"]["message"]


def test_a_live_count_for_an_anthropic_model_is_anthropics_own(mstack: Stack, anthropic: FakeProvider) -> None:
    conversation: Any = [{"role": "user", "content": "Count me, please."}]
    counted = sdk(mstack).messages.count_tokens(
        model=HAIKU, system="Be brief.", messages=conversation, tools=[WEATHER_TOOL]
    )
    sent = anthropic.requests()[-1]
    assert sent["path"] == "/v1/messages/count_tokens"
    assert sent["body"] == {"model": HAIKU, "system": "Be brief.", "messages": conversation, "tools": [WEATHER_TOOL]}
    assert counted.input_tokens == len(json.dumps(conversation, separators=(",", ":"))) // 4 + len('"Be brief."') // 4


def test_a_bare_name_reaches_anthropic_with_system_image_and_is_metered(mstack: Stack, anthropic: FakeProvider) -> None:
    customer = str(new_customer(mstack)["id"])
    raw = sdk(mstack, **{"FC-Customer": customer}).messages.with_raw_response.create(
        model=HAIKU,
        max_tokens=100,
        system=[{"type": "text", "text": "Be brief."}],
        messages=[{"role": "user", "content": [{"type": "text", "text": "What is this?"}, PIXEL]}],
        stop_sequences=["END"],
    )
    message = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == "fc:anthropic/" + HAIKU
    assert message.content[0].text == LOREM and message.stop_reason == "end_turn"  # type: ignore[union-attr]
    sent = anthropic.requests()[-1]["body"]
    assert sent["model"] == HAIKU and sent["max_tokens"] == 100 and sent["stop_sequences"] == ["END"]
    assert sent["system"] == [{"type": "text", "text": "Be brief."}]
    assert sent["messages"][0]["content"][1] == PIXEL
    assert spend_nano(mstack, customer, 1) == cost_nano(message.usage, HAIKU_PRICES)


def test_tools_round_trip_through_anthropic(mstack: Stack, anthropic: FakeProvider) -> None:
    client = sdk(mstack)
    first = client.messages.create(
        model=HAIKU,
        max_tokens=200,
        tools=[WEATHER_TOOL],
        tool_choice={"type": "any"},
        messages=[{"role": "user", "content": "weather? [[fake:tool]]"}],
    )
    assert first.stop_reason == "tool_use"
    call = next(block for block in first.content if block.type == "tool_use")
    assert (call.name, call.input) == ("get_weather", {"city": "Paris", "unit": "c"})
    sent = anthropic.requests()[-1]["body"]
    assert sent["tools"] == [WEATHER_TOOL] and sent["tool_choice"] == {"type": "any"}
    second = client.messages.create(
        model=HAIKU,
        max_tokens=200,
        tools=[WEATHER_TOOL],
        messages=[
            {"role": "user", "content": "weather?"},
            {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
            {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "12 C"}]},
        ],
    )
    assert second.content[0].text == LOREM  # type: ignore[union-attr]
    turns = anthropic.requests()[-1]["body"]["messages"]
    assert turns[1]["content"][-1] == {"type": "tool_use", "id": call.id, "name": "get_weather", "input": call.input}
    assert turns[2]["content"] == [{"type": "tool_result", "tool_use_id": call.id, "content": "12 C"}]


def test_anthropic_receives_the_request_as_written_with_cache_control_and_thinking(
    mstack: Stack, anthropic: FakeProvider
) -> None:
    """An Anthropic model is sent the client's own Messages body (only the model name and the output
    bound are Ringside's), so prompt caching and extended thinking work through Ringside."""
    system: Any = [{"type": "text", "text": "Long instructions.", "cache_control": {"type": "ephemeral"}}]
    thinking: Any = {"type": "enabled", "budget_tokens": 2048}
    message = sdk(mstack, **{"anthropic-beta": "interleaved-thinking-2025-05-14"}).messages.create(
        model=HAIKU,
        max_tokens=4096,
        system=system,
        thinking=thinking,
        extra_body={"top_k": 5},
        messages=[{"role": "user", "content": "cached [[fake:cache]]"}],
    )
    sent = anthropic.requests()[-1]["body"]
    assert (sent["system"], sent["thinking"], sent["top_k"], sent["max_tokens"]) == (system, thinking, 5, 4096)
    assert anthropic.requests()[-1]["headers"]["anthropic-beta"] == "interleaved-thinking-2025-05-14"
    assert (message.usage.cache_read_input_tokens, message.usage.cache_creation_input_tokens) == (100, 50)


def test_a_stream_from_anthropic_has_anthropics_events_and_is_metered(mstack: Stack) -> None:
    customer = str(new_customer(mstack)["id"])
    client = sdk(mstack, **{"FC-Customer": customer})
    with client.messages.stream(model=HAIKU, max_tokens=100, messages=[{"role": "user", "content": "Hi"}]) as stream:
        names = [event.type for event in stream]
        message = stream.get_final_message()
    assert names[0] == "message_start" and names[-1] == "message_stop"
    assert {"content_block_start", "content_block_delta", "content_block_stop", "message_delta"} <= set(names)
    assert message.content[0].text == LOREM and message.usage.output_tokens == 8  # type: ignore[union-attr]
    assert spend_nano(mstack, customer, 1) == cost_nano(message.usage, HAIKU_PRICES)


def test_a_streamed_tool_call_arrives_as_input_json_deltas(mstack: Stack) -> None:
    with sdk(mstack).messages.stream(
        model=HAIKU,
        max_tokens=100,
        tools=[WEATHER_TOOL],
        messages=[{"role": "user", "content": "weather? [[fake:tool]]"}],
    ) as stream:
        message = stream.get_final_message()
    call = next(block for block in message.content if block.type == "tool_use")
    assert (call.name, call.input, message.stop_reason) == ("get_weather", {"city": "Paris", "unit": "c"}, "tool_use")


def test_a_match_ref_is_served_by_an_openai_family_provider(mstack: Stack, upstream: FakeUpstream) -> None:
    customer = str(new_customer(mstack)["id"])
    client = sdk(mstack, **{"FC-Customer": customer})
    raw = client.messages.with_raw_response.create(
        model=MINI, max_tokens=10, system="Be brief.", messages=[{"role": "user", "content": "Hi"}]
    )
    message = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == "fc:openai/gpt-5-mini"
    sent = upstream.requests()[-1]["body"]
    assert sent["model"] == "gpt-5-mini" and sent["max_completion_tokens"] == 10
    assert sent["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    assert message.stop_reason == "max_tokens" and message.usage.output_tokens == 10
    with client.messages.stream(model=MINI, max_tokens=5, messages=[{"role": "user", "content": "Hi"}]) as stream:
        text = "".join(stream.text_stream)
        streamed = stream.get_final_message()
    assert text and streamed.usage.output_tokens == 5 and streamed.usage.input_tokens > 0
    expected = cost_nano(message.usage, MINI_PRICES) + cost_nano(streamed.usage, MINI_PRICES)
    assert spend_nano(mstack, customer, 2) == expected


def test_metadata_user_id_attributes_the_call(mstack: Stack) -> None:
    customer = new_customer(mstack)
    sdk(mstack).messages.create(
        model=HAIKU,
        max_tokens=10,
        metadata={"user_id": str(customer["external_id"])},
        messages=[{"role": "user", "content": "Hi"}],
    )
    assert settled(mstack, str(customer["id"]), 1)["request_count_mtd"] == 1


def test_errors_are_in_anthropics_shape_with_ringsides_codes(mstack: Stack) -> None:
    with pytest.raises(anthropic.AuthenticationError) as unauthenticated:
        sdk(mstack, "sk_live_nope").messages.create(
            model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert unauthenticated.value.body["type"] == "error"  # type: ignore[index]
    assert unauthenticated.value.body["error"]["type"] == "authentication_error"  # type: ignore[index]
    assert unauthenticated.value.body["error"]["code"] == "invalid_api_key"  # type: ignore[index]
    missing = mstack.call("POST", "/v1/messages", mstack.live_key, {"model": HAIKU, "messages": []})
    assert missing.status == 400 and missing.json()["error"]["type"] == "invalid_request_error"
    wrong_method = mstack.call("GET", "/v1/messages", mstack.live_key)
    assert wrong_method.status == 405 and wrong_method.json()["type"] == "error"
    customer = str(new_customer(mstack, budget_usd=0)["id"])
    with pytest.raises(anthropic.APIStatusError) as refused:
        sdk(mstack, **{"FC-Customer": customer}).messages.create(
            model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    assert refused.value.status_code == 402
    assert refused.value.body["error"] == {  # type: ignore[index]
        **refused.value.body["error"],  # type: ignore[index]
        "type": "billing_error",
        "code": "customer_budget_exceeded",
    }
    with pytest.raises(anthropic.InternalServerError) as overloaded:
        sdk(mstack).messages.create(
            model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "[[anthropic:status=529]]"}]
        )
    assert overloaded.value.status_code == 503 and overloaded.value.body["error"]["type"] == "api_error"  # type: ignore[index]


def test_a_rate_limited_customer_gets_anthropics_429(mstack: Stack) -> None:
    customer = str(new_customer(mstack, rate_limit_rpm=1)["id"])
    client = sdk(mstack, **{"FC-Customer": customer})
    client.messages.create(model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.RateLimitError) as limited:
        client.messages.create(model=HAIKU, max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert limited.value.body["error"]["type"] == "rate_limit_error"  # type: ignore[index]
    assert limited.value.body["error"]["code"] == "customer_rate_limit_exceeded"  # type: ignore[index]
    assert limited.value.response.headers["retry-after"]


def test_an_error_mid_stream_is_anthropics_error_event(mstack: Stack) -> None:
    with (
        pytest.raises(anthropic.APIStatusError) as broken,
        sdk(mstack).messages.stream(
            model=HAIKU, max_tokens=100, messages=[{"role": "user", "content": "Hi [[fake:stream_error]]"}]
        ) as stream,
    ):
        for _ in stream:
            pass
    assert broken.value.body["type"] == "error"  # type: ignore[index]
    assert broken.value.body["error"]["type"] == "api_error"  # type: ignore[index]


def test_a_body_above_the_bound_is_anthropics_413(mstack: Stack) -> None:
    where = urlsplit(mstack.base_url)
    connection = http.client.HTTPConnection(where.hostname or "", where.port, timeout=30)
    connection.putrequest("POST", "/v1/messages")
    connection.putheader("x-api-key", mstack.live_key)
    connection.putheader("Content-Type", "application/json")
    size = 32 * 1024 * 1024 + 1
    connection.putheader("Content-Length", str(size))
    connection.endheaders()
    with contextlib.suppress(OSError):  # the edge may answer and close before reading it all
        for start in range(0, size, 1024 * 1024):
            connection.send(b" " * min(1024 * 1024, size - start))
    answer = connection.getresponse()
    body = json.loads(answer.read())
    connection.close()
    assert answer.status == 413
    assert (body["type"], body["error"]["type"], body["error"]["code"]) == (
        "error",
        "request_too_large",
        "payload_too_large",
    )


@pytest.mark.parametrize("stream", [False, True])
def test_thinking_comes_back_signed_and_goes_back_with_the_tool_result(
    mstack: Stack, anthropic: FakeProvider, stream: bool
) -> None:
    """With extended thinking and tools, Anthropic wants the signed thinking block back beside the
    tool result: Claude Code's loop only works if it survives the round trip."""
    client = sdk(mstack)
    asked: Any = {
        "model": HAIKU,
        "max_tokens": 4096,
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "tools": [WEATHER_TOOL],
        "messages": [{"role": "user", "content": "weather? [[fake:tool]] [[fake:thinking]]"}],
    }
    if stream:
        with client.messages.stream(**asked) as events:
            first = events.get_final_message()
    else:
        first = client.messages.create(**asked)
    assert [block.type for block in first.content] == ["thinking", "text", "tool_use"]
    thought = first.content[0]
    assert thought.thinking == THINKING and thought.signature == SIGNATURE  # type: ignore[union-attr]
    call = first.content[2]
    history = [
        *asked["messages"],
        {"role": "assistant", "content": [block.model_dump(exclude_none=True) for block in first.content]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "12 C"}]},  # type: ignore[union-attr]
    ]
    client.messages.create(**{**asked, "messages": history})
    sent = anthropic.requests()[-1]["body"]["messages"][1]["content"][0]
    assert sent == {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE}
