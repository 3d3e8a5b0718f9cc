"""The Bedrock provider end to end: the real OpenAI SDK → Ringside → a fake speaking Bedrock's
Converse wire format (tests/fakes/bedrock_upstream.py), its binary event stream included, metered."""

from __future__ import annotations

import json
from collections.abc import Iterator
from decimal import Decimal

import openai
import pytest

from ringside_server.providers.catalog.load import load_catalog
from tests.e2e.native import LOREM, TOOLS, sqlite_stack, text_and_image
from tests.e2e.test_chat_completions import client, new_customer, settled
from tests.harness import FakeProvider, Stack

MODEL = "fc:bedrock/anthropic.claude-haiku-4-5-20251001-v1:0"


@pytest.fixture(scope="module")
def bstack(tmp_path_factory: pytest.TempPathFactory, bedrock: FakeProvider) -> Iterator[Stack]:
    env = {"AWS_BEARER_TOKEN_BEDROCK": bedrock.api_key, "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.base_url}
    yield from sqlite_stack(tmp_path_factory, "bedrock", {**env, "AWS_REGION": "us-east-1"})


def test_text_with_system_and_image_both_ways(bstack: Stack, bedrock: FakeProvider) -> None:
    raw = client(bstack).chat.completions.with_raw_response.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": text_and_image("What?")}],
        max_tokens=100,
        stop=["END"],
    )
    reply = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == MODEL
    assert reply.choices[0].message.content == LOREM and reply.choices[0].finish_reason == "stop"
    seen = bedrock.requests()[-1]
    assert seen["path"] == "/model/anthropic.claude-haiku-4-5-20251001-v1%3A0/converse"
    assert seen["headers"]["Authorization"] == f"Bearer {bedrock.api_key}"
    body = seen["body"]
    assert body["system"] == [{"text": "Be brief."}]
    assert body["messages"][0]["content"][1] == {"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}}
    assert body["inferenceConfig"] == {"maxTokens": 100, "stopSequences": ["END"]}


def test_tool_use_both_ways_and_streamed(bstack: Stack, bedrock: FakeProvider) -> None:
    reply = client(bstack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[fake:tool]]"}], tools=TOOLS, tool_choice="required"
    )
    call = (reply.choices[0].message.tool_calls or [])[0]
    assert reply.choices[0].finish_reason == "tool_calls" and call.id == "tooluse_fake01"
    assert json.loads(call.function.arguments) == {"city": "Paris", "unit": "c"}  # type: ignore[union-attr]
    config = bedrock.requests()[-1]["body"]["toolConfig"]
    assert config["toolChoice"] == {"any": {}} and config["tools"][0]["toolSpec"]["name"] == "get_weather"
    chunks = list(
        client(bstack).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "[[fake:tool]]"}], tools=TOOLS, stream=True
        )
    )
    calls = [c for chunk in chunks for c in (chunk.choices[0].delta.tool_calls or [])]
    arguments = "".join(c.function.arguments or "" for c in calls if c.function)
    assert json.loads(arguments) == {"city": "Paris", "unit": "c"} and calls[0].id == "tooluse_fake01"
    assert chunks[-1].choices[0].finish_reason == "tool_calls"


def test_a_stream_with_cache_tokens_is_billed_per_class(bstack: Stack) -> None:
    customer = str(new_customer(bstack)["id"])
    chunks = list(
        client(bstack).chat.completions.create(
            model=MODEL,
            messages=[{"role": "user", "content": "[[fake:cache]] hi"}],
            stream=True,
            stream_options={"include_usage": True},
            extra_headers={"FC-Customer": customer},
        )
    )
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == LOREM
    usage = chunks[-1].usage
    assert usage is not None and usage.prompt_tokens_details is not None
    assert usage.prompt_tokens_details.cached_tokens == 100
    prices = load_catalog()[MODEL].prices
    fresh = usage.prompt_tokens - 150
    cost = fresh * prices["input"] + 100 * prices["cached_input"] + 50 * prices["cache_write"] + 8 * prices["output"]
    after = settled(bstack, customer, 1)
    assert Decimal(str(after["spend_usd_mtd"])) == Decimal(-(-cost // 1_000_000)).scaleb(-9)


@pytest.mark.parametrize(
    ("status", "code"), [(429, "rate_limit_exceeded"), (503, "model_unavailable"), (400, "invalid_request")]
)
def test_bedrock_errors_arrive_in_the_envelope(bstack: Stack, status: int, code: str) -> None:
    with pytest.raises(openai.APIStatusError) as failure:
        client(bstack).chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": f"[[bedrock:status={status}]]"}]
        )
    assert failure.value.status_code == status and failure.value.body["code"] == code  # type: ignore[index]


def test_an_exception_frame_mid_stream_ends_it_with_an_error(bstack: Stack) -> None:
    stream = client(bstack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "[[bedrock:stream_error]]"}], stream=True
    )
    with pytest.raises(openai.APIError):
        for _ in stream:
            pass
