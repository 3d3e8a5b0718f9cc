"""ringside_server/openai/estimate.py: the prompt bound held before a call is never below what is billed
(API.md "Budgets": UTF-8 bytes of every prompt part, images at the maximum, tools, overhead)."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ringside_server.openai.estimate import input_tokens_bound
from ringside_server.providers.test_model import _prompt_tokens

FAST = settings(max_examples=200, deadline=None)

IMAGE = {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}}
TOOLS = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "Météo d'une ville",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]

texts = st.text(max_size=200)
text_parts = st.builds(lambda text: {"type": "text", "text": text}, texts)
image_parts = st.just(IMAGE)
contents = st.one_of(texts, st.lists(st.one_of(text_parts, image_parts), max_size=5), st.none())
roles = st.sampled_from(["system", "developer", "user", "assistant", "tool"])


@st.composite
def messages(draw: st.DrawFn) -> dict[str, Any]:
    message: dict[str, Any] = {"role": draw(roles), "content": draw(contents)}
    if draw(st.booleans()):
        message["name"] = draw(st.text(max_size=20))
    return message


message_lists = st.lists(messages(), min_size=1, max_size=12)


@FAST
@given(messages=message_lists, max_image_tokens=st.integers(min_value=0, max_value=50_000))
def test_the_bound_is_never_below_the_test_models_prompt_tokens(
    messages: list[dict[str, Any]], max_image_tokens: int
) -> None:
    assert input_tokens_bound({"messages": messages}, max_image_tokens) >= _prompt_tokens(messages)


@FAST
@given(messages=message_lists)
def test_the_bound_covers_every_prompt_byte(messages: list[dict[str, Any]]) -> None:
    text_bytes = 0
    for message in messages:
        content = message["content"]
        if isinstance(content, str):
            text_bytes += len(content.encode())
        elif isinstance(content, list):
            text_bytes += sum(len(part["text"].encode()) for part in content if part["type"] == "text")
    assert input_tokens_bound({"messages": messages}, 0) >= text_bytes


def test_text_is_counted_in_utf8_bytes_not_characters() -> None:
    ascii_bound = input_tokens_bound({"messages": [{"role": "user", "content": "aaaa"}]}, 0)
    unicode_bound = input_tokens_bound({"messages": [{"role": "user", "content": "é😀漢a"}]}, 0)
    assert unicode_bound - ascii_bound == len("é😀漢a".encode()) - 4 == 6


@pytest.mark.parametrize("images", [1, 2, 5])
def test_every_image_part_counts_at_the_models_maximum_image_tokens(images: int) -> None:
    text_only = {"messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}]}]}
    with_images = {
        "messages": [{"role": "user", "content": [{"type": "text", "text": "What is this?"}, *[IMAGE] * images]}]
    }
    # The bound does not depend on the image's size in the request (a URL can be one byte).
    assert input_tokens_bound(with_images, 48_169) - input_tokens_bound(text_only, 48_169) == images * 48_169
    assert input_tokens_bound(with_images, 0) == input_tokens_bound(text_only, 0)


def test_tool_definitions_add_their_json_bytes() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "Weather in Paris?"}]}
    without_tools = input_tokens_bound(body, 0)
    body["tools"] = TOOLS
    assert input_tokens_bound(body, 0) - without_tools == len(orjson.dumps(TOOLS))


def test_response_format_and_tool_choice_add_their_json_bytes() -> None:
    body: dict[str, Any] = {"messages": [{"role": "user", "content": "Hi"}]}
    base = input_tokens_bound(body, 0)
    response_format = {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}}
    body["response_format"] = response_format
    body["tool_choice"] = "auto"
    assert input_tokens_bound(body, 0) - base == len(orjson.dumps(response_format)) + len(b'"auto"')


def test_assistant_tool_calls_and_tool_results_count() -> None:
    tool_calls = [{"id": "call_1", "type": "function", "function": {"name": "f", "arguments": '{"a":1}'}}]
    bare = input_tokens_bound({"messages": [{"role": "assistant", "content": None}]}, 0)
    with_calls = input_tokens_bound({"messages": [{"role": "assistant", "content": None, "tool_calls": tool_calls}]}, 0)
    assert with_calls - bare == len(orjson.dumps(tool_calls))


def test_every_message_adds_its_overhead() -> None:
    one = input_tokens_bound({"messages": [{"role": "user", "content": ""}]}, 0)
    three = input_tokens_bound({"messages": [{"role": "user", "content": ""}] * 3}, 0)
    assert three - one == 2 * 4


@pytest.mark.parametrize("message", [1, "x", []])
def test_a_message_that_is_not_an_object_is_still_bounded(message: Any) -> None:
    assert input_tokens_bound({"messages": [message]}, 0) >= _prompt_tokens([message])
