"""ringside_server/providers/test_model.py: the built-in test model speaks OpenAI's exact wire format."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ringside_server.openai.sse import DONE_FRAME
from ringside_server.providers.test_model import REPLY, _prompt_tokens
from ringside_server.providers.test_model import TestModelProvider as Provider  # not a pytest class

MESSAGES = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Say hello."}]


async def complete(**body: Any) -> dict[str, Any]:
    response = await Provider().chat_completions({"model": "gpt-4o-mini", "messages": MESSAGES, **body})
    assert response.status == 200
    assert response.content_type() == "application/json"
    return orjson.loads(await response.read(1 << 20))


async def stream(**body: Any) -> list[bytes]:
    request = {"model": "gpt-4o-mini", "messages": MESSAGES, "stream": True, **body}
    response = await Provider().chat_completions(request)
    assert response.status == 200
    assert response.content_type().startswith("text/event-stream")
    lines = [line async for line in response.lines()]
    return b"".join(lines).split(b"\n\n")[:-1]  # events, without their blank-line terminators


def chunks(events: list[bytes]) -> list[dict[str, Any]]:
    assert all(event.startswith(b"data: ") for event in events)
    return [orjson.loads(event[len(b"data: ") :]) for event in events if event != b"data: [DONE]"]


async def test_a_completion_has_openais_shape_and_usage() -> None:
    body = await complete()
    assert body["object"] == "chat.completion"
    assert body["id"].startswith("chatcmpl-")
    assert isinstance(body["created"], int)
    assert body["model"] == "gpt-4o-mini"
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["message"]["role"] == "assistant"
    assert choice["message"]["content"] == " ".join(REPLY)
    assert choice["finish_reason"] == "stop"
    usage = body["usage"]
    assert usage["prompt_tokens"] == _prompt_tokens(MESSAGES)
    assert usage["completion_tokens"] == len(REPLY)
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["prompt_tokens_details"]["cached_tokens"] == 0
    assert usage["completion_tokens_details"]["reasoning_tokens"] == 0


async def test_the_answer_is_deterministic_for_the_same_request_and_the_ids_unique() -> None:
    first, second = await complete(), await complete()
    assert first["id"] != second["id"]
    assert first["choices"] == second["choices"]
    assert first["usage"] == second["usage"]


async def test_a_longer_prompt_reports_more_prompt_tokens() -> None:
    short = await complete(messages=[{"role": "user", "content": "Hi"}])
    long = await complete(messages=[{"role": "user", "content": "Hi " * 400}])
    assert long["usage"]["prompt_tokens"] > short["usage"]["prompt_tokens"]


@pytest.mark.parametrize("limit_field", ["max_tokens", "max_completion_tokens"])
async def test_the_output_limit_cuts_the_answer_with_finish_reason_length(limit_field: str) -> None:
    body = await complete(**{limit_field: 3})
    (choice,) = body["choices"]
    assert choice["message"]["content"] == " ".join(REPLY[:3])
    assert choice["finish_reason"] == "length"
    assert body["usage"]["completion_tokens"] == 3


async def test_n_choices_each_answer_and_all_are_counted() -> None:
    body = await complete(n=3, max_tokens=5)
    assert [choice["index"] for choice in body["choices"]] == [0, 1, 2]
    assert body["usage"]["completion_tokens"] == 15


async def test_a_stream_ends_with_done() -> None:
    events = await stream()
    assert events[-1] + b"\n\n" == DONE_FRAME
    assert events.count(b"data: [DONE]") == 1


async def test_a_stream_spells_the_same_answer_as_the_completion() -> None:
    parsed = chunks(await stream())
    assert all(chunk["object"] == "chat.completion.chunk" for chunk in parsed)
    assert len({chunk["id"] for chunk in parsed}) == 1
    assert parsed[0]["choices"][0]["delta"]["role"] == "assistant"
    text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in parsed if chunk["choices"])
    assert text == " ".join(REPLY)
    assert parsed[-1]["choices"][0]["finish_reason"] == "stop"


async def test_with_include_usage_every_chunk_has_usage_null_and_a_final_usage_chunk_follows() -> None:
    parsed = chunks(await stream(stream_options={"include_usage": True}))
    *content_chunks, final = parsed
    assert all("usage" in chunk and chunk["usage"] is None for chunk in content_chunks)
    assert final["choices"] == []
    assert final["usage"]["completion_tokens"] == len(REPLY)
    assert final["usage"]["prompt_tokens"] == _prompt_tokens(MESSAGES)


@pytest.mark.parametrize("stream_options", [None, {"include_usage": False}])
async def test_without_include_usage_no_chunk_carries_usage(stream_options: dict[str, bool] | None) -> None:
    extra = {} if stream_options is None else {"stream_options": stream_options}
    parsed = chunks(await stream(**extra))
    assert all("usage" not in chunk for chunk in parsed)
    assert all(chunk["choices"] for chunk in parsed)


async def test_a_limited_stream_ends_with_finish_reason_length_and_counts_the_limit() -> None:
    parsed = chunks(await stream(max_tokens=4, stream_options={"include_usage": True}))
    *content_chunks, final = parsed
    text = "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in content_chunks)
    assert text == " ".join(REPLY[:4])
    assert content_chunks[-1]["choices"][0]["finish_reason"] == "length"
    assert final["usage"]["completion_tokens"] == 4


async def test_moderations_answer_one_quiet_result_per_string_and_one_per_multimodal_list() -> None:
    provider = Provider()
    strings = orjson.loads(await (await provider.moderations({"model": "m", "input": ["a", "b"]})).read(10**6))
    again = orjson.loads(await (await provider.moderations({"model": "m", "input": ["a", "b"]})).read(10**6))
    assert strings["id"].startswith("modr-") and strings["id"] != again["id"]
    assert strings["results"] == again["results"] and len(strings["results"]) == 2
    assert all(result["flagged"] is False for result in strings["results"])
    image = {"type": "image_url", "image_url": {"url": "https://example.com/a.png"}}
    mixed = orjson.loads(await (await provider.moderations({"model": "m", "input": [image]})).read(10**6))
    applied = mixed["results"][0]["category_applied_input_types"]
    assert applied["violence"] == ["image"] and applied["hate"] == []


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
)
FIELDS = st.sampled_from(
    ["tools", "tool_choice", "response_format", "stop", "n", "logprobs", "top_logprobs", "seed", "temperature"]
)


MESSAGE = st.fixed_dictionaries(
    {"role": st.sampled_from(["user", "system", "assistant", "tool"]), "content": JSON},
    optional={"tool_calls": JSON, "tool_call_id": JSON},
) | st.dictionaries(st.text(max_size=12), JSON, max_size=4)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(fields=st.dictionaries(FIELDS, JSON, max_size=4), messages=st.lists(MESSAGE, min_size=1, max_size=3))
async def test_any_body_is_an_answer_or_openais_400_never_an_exception(
    fields: dict[str, Any], messages: list[dict[str, Any]]
) -> None:
    response = await Provider().chat_completions({"model": "gpt-4o-mini", "messages": messages, **fields})
    body = orjson.loads(await response.read(1 << 20))
    assert response.status in (200, 400)
    if response.status == 400:
        assert body["error"]["type"] == "invalid_request_error"
