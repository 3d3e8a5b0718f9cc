"""The Responses API through every natively translated provider (Anthropic, Gemini, Cohere,
Bedrock): the OpenAI SDK's `responses.create` and `responses.stream` against each provider's fake,
translated twice (Responses → chat → the provider's format, and back), metered to the customer."""

from __future__ import annotations

import json
import secrets
from collections.abc import Iterator

import openai
import pytest

from tests.e2e.native import LOREM, sqlite_stack
from tests.e2e.test_chat_completions import new_customer, settled
from tests.fakes.anthropic_upstream import TOOL_INPUT
from tests.harness import FakeProvider, FakeUpstream, Stack

MODELS = [
    "fc:anthropic/claude-haiku-4-5",
    "fc:gemini/gemini-2.5-flash",
    "fc:cohere/command-a-03-2025",
    "fc:bedrock/anthropic.claude-haiku-4-5-20251001-v1:0",
]
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather of a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}


@pytest.fixture(scope="module")
def pstack(
    tmp_path_factory: pytest.TempPathFactory,
    anthropic: FakeProvider,
    gemini: FakeProvider,
    cohere: FakeProvider,
    bedrock: FakeProvider,
    upstream: FakeUpstream,
) -> Iterator[Stack]:
    env = {
        "VLLM_BASE_URL": upstream.base_url,  # an OpenAI-compatible server that serves chat only
        "VLLM_API_KEY": upstream.api_key,
        "ANTHROPIC_API_KEY": anthropic.api_key,
        "ANTHROPIC_BASE_URL": anthropic.base_url,
        "GEMINI_API_KEY": gemini.api_key,
        "GOOGLE_GEMINI_BASE_URL": gemini.base_url,
        "CO_API_KEY": cohere.api_key,
        "CO_API_URL": cohere.base_url,
        "AWS_BEARER_TOKEN_BEDROCK": bedrock.api_key,
        "AWS_ENDPOINT_URL_BEDROCK_RUNTIME": bedrock.base_url,
        "AWS_REGION": "us-east-1",
    }
    yield from sqlite_stack(tmp_path_factory, "pstack", env)


def _client(stack: Stack, customer: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=stack.base_url + "/v1",
        api_key=stack.live_key,
        max_retries=0,
        default_headers={"FC-Customer": customer},
    )


@pytest.mark.parametrize("model", MODELS)
def test_each_provider_answers_a_response_and_a_stream(pstack: Stack, model: str) -> None:
    customer = str(new_customer(pstack)["id"])
    api = _client(pstack, customer)
    raw = api.responses.with_raw_response.create(model=model, input="Hello", instructions="Be brief.")
    response = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == model
    assert response.status == "completed" and response.output_text == LOREM
    with api.responses.stream(model=model, input="Hello again", previous_response_id=response.id) as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == final.output_text == LOREM
    assert final.usage is not None and response.usage is not None
    assert settled(pstack, customer, 2)["request_count_mtd"] == 2


def test_a_function_call_through_anthropic(pstack: Stack, anthropic: FakeProvider) -> None:
    api = _client(pstack, str(new_customer(pstack)["id"]))
    first = api.responses.create(
        model=MODELS[0],
        input="[[fake:tool]] weather in Paris?",
        tools=[WEATHER],  # type: ignore[list-item]
    )
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == json.loads(TOOL_INPUT)
    second = api.responses.create(
        model=MODELS[0],
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "21C"}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert second.output_text == LOREM
    sent = anthropic.requests()[-1]["body"]
    assert sent["messages"][-1]["content"][0] == {"type": "tool_result", "tool_use_id": call.call_id, "content": "21C"}


def test_a_chat_only_openai_compatible_server_is_sent_chat(pstack: Stack, upstream: FakeUpstream) -> None:
    """Only a provider entry marked `responses: native` is relayed the Responses format."""
    marker = "vLLM " + secrets.token_hex(4)
    api = _client(pstack, str(new_customer(pstack)["id"]))
    response = api.responses.create(model="fc:vllm/meta-llama/Llama-3.1-8B-Instruct", input=marker, instructions="Hi.")
    assert response.status == "completed" and response.output_text
    [sent] = [r for r in upstream.requests() if marker in json.dumps(r["body"])]
    assert sent["body"]["messages"] == [{"role": "system", "content": "Hi."}, {"role": "user", "content": marker}]
