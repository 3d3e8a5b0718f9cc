"""A faithful test mode (issue 20, item 1), through the real OpenAI SDK with a test key: the test
model refuses what OpenAI refuses (same status, type and param), and answers what a model answers —
tool calls whose arguments fit the function's schema, JSON that fits the requested schema, `stop`,
`n`, the output limit, `seed`, unique ids, each catalog model's embedding dimension — and every
body validates against OpenAI's published schema (vendored in our OpenAPI document)."""

from __future__ import annotations

import json
import math
from typing import Any

import openai
import pytest
from jsonschema import Draft202012Validator

from tests.e2e.test_chat_completions import client
from tests.e2e.test_openapi_live import Contract
from tests.harness import Stack

MODEL = "fc:openai/gpt-4o-mini"
REASONING_MODEL = "fc:openai/gpt-5-mini"
HELLO = [{"role": "user", "content": "Hello"}]
WEATHER = {
    "type": "object",
    "properties": {
        "city": {"type": "string", "minLength": 2},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer", "minimum": 1, "maximum": 7},
        "hourly": {"type": "boolean"},
    },
    "required": ["city", "unit", "days"],
    "additionalProperties": False,
}
TOOLS: Any = [
    {"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": WEATHER}},
    {"type": "function", "function": {"name": "get_time", "parameters": {"type": "object", "properties": {}}}},
]
PERSON = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "age": {"type": "integer", "minimum": 0, "maximum": 150},
        "email": {"type": "string", "format": "email"},
        "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1},
        "address": {
            "anyOf": [
                {"type": "null"},
                {"type": "object", "properties": {"street": {"type": "string"}}, "required": ["street"]},
            ]
        },
    },
    "required": ["name", "age", "email", "tags", "address"],
    "additionalProperties": False,
}


@pytest.fixture(scope="module")
def contract() -> Contract:
    from edge_http.openapi.document import load_document

    return Contract(load_document())


def sdk(stack: Stack) -> openai.OpenAI:
    return client(stack, stack.test_key)


def validates(contract: Contract, schema_name: str, body: Any) -> None:
    assert contract.errors(f"/components/schemas/{schema_name}", body) == [], body


@pytest.mark.parametrize(
    ("fields", "param"),
    [
        ({"temperature": 5}, "temperature"),
        ({"temperature": -0.1}, "temperature"),
        ({"top_p": 1.5}, "top_p"),
        ({"presence_penalty": 3}, "presence_penalty"),
        ({"n": 0}, "n"),
        ({"n": 129}, "n"),
        ({"top_logprobs": 3}, "top_logprobs"),
        ({"logprobs": True, "top_logprobs": 21}, "top_logprobs"),
        ({"stop": ["a", "b", "c", "d", "e"]}, "stop"),
        ({"tool_choice": "auto"}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": "sometimes"}, "tool_choice"),
        ({"tools": TOOLS, "tool_choice": {"type": "function", "function": {"name": "nope"}}}, "tool_choice"),
        ({"tools": [{"type": "function", "function": {"name": "bad name!"}}]}, "tools[0].function.name"),
        ({"response_format": {"type": "json_object"}}, "messages"),
        ({"response_format": {"type": "xml"}}, "response_format.type"),
        (
            {"response_format": {"type": "json_schema", "json_schema": {"schema": PERSON}}},
            "response_format.json_schema.name",
        ),
        ({"messages": [{"role": "robot", "content": "hi"}]}, "messages[0].role"),
        ({"messages": [{"role": "tool", "content": "42", "tool_call_id": "call_1"}]}, "messages[0].role"),
    ],
)
def test_a_parameter_openai_refuses_is_the_same_400_under_a_test_key(
    stack: Stack, fields: dict[str, Any], param: str
) -> None:
    body: dict[str, Any] = {"messages": HELLO, **fields}
    messages = body.pop("messages")
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(stack).chat.completions.create(model=MODEL, messages=messages, extra_body=body)
    error = refused.value.body
    assert isinstance(error, dict)
    assert refused.value.status_code == 400
    assert error["type"] == "invalid_request_error" and error["param"] == param, error
    assert error["request_id"].startswith("req_")


def test_an_unknown_field_is_refused_as_openai_refuses_it(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, extra_body={"temprature": 0.5})  # type: ignore[arg-type]
    assert refused.value.body["param"] == "temprature"  # type: ignore[index]
    assert "Unrecognized request argument" in refused.value.message


def test_a_reasoning_model_refuses_max_tokens_and_temperature_as_openai_does(stack: Stack) -> None:
    for fields in ({"max_tokens": 50}, {"temperature": 0.2}):
        with pytest.raises(openai.BadRequestError) as refused:
            sdk(stack).chat.completions.create(model=REASONING_MODEL, messages=HELLO, **fields)  # type: ignore[call-overload]
        assert refused.value.body["param"] == next(iter(fields))  # type: ignore[index]
    answer = sdk(stack).chat.completions.create(model=REASONING_MODEL, messages=HELLO, max_completion_tokens=50)
    assert answer.choices[0].message.content


def test_tools_get_a_tool_call_whose_arguments_fit_the_functions_schema(stack: Stack, contract: Contract) -> None:
    raw = sdk(stack).chat.completions.with_raw_response.create(model=MODEL, messages=HELLO, tools=TOOLS)
    body = json.loads(raw.text)
    validates(contract, "OpenAICreateChatCompletionResponse", body)
    choice = raw.parse().choices[0]
    assert choice.finish_reason == "tool_calls" and choice.message.content is None
    (call,) = choice.message.tool_calls or []
    assert call.type == "function" and call.id.startswith("call_")
    assert call.function.name == "get_weather"
    Draft202012Validator(WEATHER).validate(json.loads(call.function.arguments))


def test_a_named_tool_choice_calls_that_function_and_none_answers_in_text(stack: Stack) -> None:
    named = sdk(stack).chat.completions.create(
        model=MODEL, messages=HELLO, tools=TOOLS, tool_choice={"type": "function", "function": {"name": "get_time"}}
    )
    (call,) = named.choices[0].message.tool_calls or []
    assert call.function.name == "get_time" and json.loads(call.function.arguments) == {}
    plain = sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, tools=TOOLS, tool_choice="none")
    assert plain.choices[0].message.tool_calls is None and plain.choices[0].message.content


def test_after_a_tool_result_auto_answers_in_text(stack: Stack) -> None:
    first = sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, tools=TOOLS)
    (call,) = first.choices[0].message.tool_calls or []
    messages: Any = [
        *HELLO,
        first.choices[0].message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": "sunny"},
    ]
    answer = sdk(stack).chat.completions.create(model=MODEL, messages=messages, tools=TOOLS)
    assert answer.choices[0].finish_reason == "stop" and answer.choices[0].message.content


def test_a_streamed_tool_call_assembles_to_valid_arguments(stack: Stack, contract: Contract) -> None:
    pieces, names, finish = [], [], None
    for chunk in sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, tools=TOOLS, stream=True):
        validates(contract, "OpenAICreateChatCompletionStreamResponse", chunk.model_dump(exclude_unset=True))
        for choice in chunk.choices:
            for call in choice.delta.tool_calls or []:
                names += [call.function.name] if call.function and call.function.name else []
                pieces.append(call.function.arguments if call.function else "")
            finish = choice.finish_reason or finish
    assert names == ["get_weather"] and finish == "tool_calls"
    Draft202012Validator(WEATHER).validate(json.loads("".join(p or "" for p in pieces)))


def test_a_json_schema_response_format_gets_json_valid_against_it(stack: Stack, contract: Contract) -> None:
    response_format: Any = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON, "strict": True}}
    raw = sdk(stack).chat.completions.with_raw_response.create(
        model=MODEL, messages=HELLO, response_format=response_format
    )
    validates(contract, "OpenAICreateChatCompletionResponse", json.loads(raw.text))
    Draft202012Validator(PERSON).validate(json.loads(raw.parse().choices[0].message.content or ""))
    json_mode = sdk(stack).chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "Answer in JSON"}], response_format={"type": "json_object"}
    )
    assert isinstance(json.loads(json_mode.choices[0].message.content or ""), dict)


def test_stop_n_and_the_output_limit_are_honoured(stack: Stack) -> None:
    full = sdk(stack).chat.completions.create(model=MODEL, messages=HELLO).choices[0].message.content or ""
    stopped = sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, stop=["model"])
    assert stopped.choices[0].message.content == full[: full.index("model")]
    assert stopped.choices[0].finish_reason == "stop"
    several = sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, n=3, max_tokens=2)
    assert [c.index for c in several.choices] == [0, 1, 2]
    assert all(c.finish_reason == "length" for c in several.choices)
    assert several.usage is not None and several.usage.completion_tokens == 6


def test_ids_are_unique_and_a_seed_repeats_the_answer(stack: Stack) -> None:
    response_format: Any = {"type": "json_schema", "json_schema": {"name": "person", "schema": PERSON}}
    answers = [
        sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, seed=seed, response_format=response_format)
        for seed in (7, 7, 8)
    ]
    assert len({answer.id for answer in answers}) == 3
    assert answers[0].choices[0].message.content == answers[1].choices[0].message.content
    assert answers[0].choices[0].message.content != answers[2].choices[0].message.content


def test_logprobs_are_given_when_asked(stack: Stack, contract: Contract) -> None:
    raw = sdk(stack).chat.completions.with_raw_response.create(
        model=MODEL, messages=HELLO, logprobs=True, top_logprobs=2, max_tokens=3
    )
    validates(contract, "OpenAICreateChatCompletionResponse", json.loads(raw.text))
    logprobs = raw.parse().choices[0].logprobs
    assert logprobs is not None and len(logprobs.content or []) == 3
    assert all(len(token.top_logprobs) == 2 for token in logprobs.content or [])


def cosine(a: list[float], b: list[float]) -> float:
    return sum(x * y for x, y in zip(a, b, strict=True)) / math.sqrt(sum(x * x for x in a) * sum(y * y for y in b))


@pytest.mark.parametrize(("model", "dimensions"), [("text-embedding-3-small", 1536), ("text-embedding-3-large", 3072)])
def test_embeddings_have_the_catalog_dimension_and_similar_texts_stay_similar(
    stack: Stack, contract: Contract, model: str, dimensions: int
) -> None:
    texts = ["The cat sat on the mat", "The cat sat on the mat.", "Quarterly revenue grew by 4 percent"]
    raw = sdk(stack).embeddings.with_raw_response.create(
        model=f"fc:openai/{model}", input=texts, encoding_format="float"
    )
    validates(contract, "OpenAICreateEmbeddingResponse", json.loads(raw.text))
    vectors = [item.embedding for item in raw.parse().data]
    assert [len(vector) for vector in vectors] == [dimensions] * 3
    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    again = sdk(stack).embeddings.create(model=f"fc:openai/{model}", input=texts[0], encoding_format="float")
    assert again.data[0].embedding == pytest.approx(vectors[0])


def test_embedding_dimensions_are_honoured_where_openai_honours_them(stack: Stack) -> None:
    short = sdk(stack).embeddings.create(model="fc:openai/text-embedding-3-small", input="x", dimensions=256)
    assert len(short.data[0].embedding) == 256
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(stack).embeddings.create(model="fc:openai/text-embedding-ada-002", input="x", dimensions=256)
    assert refused.value.body["param"] == "dimensions"  # type: ignore[index]


def test_a_streamed_call_is_refused_before_its_first_byte_as_openai_refuses_it(stack: Stack) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, stream=True, temperature=5)
    assert refused.value.body["param"] == "temperature"  # type: ignore[index]


def test_the_stream_spells_what_the_completion_says_and_validates(stack: Stack, contract: Contract) -> None:
    whole = sdk(stack).chat.completions.create(model=MODEL, messages=HELLO, stop=["deterministic"], n=2)
    texts = {0: "", 1: ""}
    finishes = {}
    for chunk in sdk(stack).chat.completions.create(
        model=MODEL, messages=HELLO, stop=["deterministic"], n=2, stream=True, stream_options={"include_usage": True}
    ):
        validates(contract, "OpenAICreateChatCompletionStreamResponse", chunk.model_dump(exclude_unset=True))
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
            finishes[choice.index] = choice.finish_reason or finishes.get(choice.index)
    assert [texts[0], texts[1]] == [choice.message.content for choice in whole.choices]
    assert finishes == {0: "stop", 1: "stop"}


@pytest.mark.parametrize("route", ["embeddings", "moderations"])
def test_unknown_fields_on_the_other_model_routes_are_refused_too(stack: Stack, route: str) -> None:
    model = "fc:openai/text-embedding-3-small" if route == "embeddings" else "fc:openai/omni-moderation-latest"
    body = {"model": model, "input": "x", "temperature": 1}
    response = stack.call("POST", f"/v1/{route}", stack.test_key, body)
    assert response.status == 400, response.body
    error = response.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "temperature"
