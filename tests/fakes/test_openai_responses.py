"""The fake's `POST /v1/responses`, driven by the real OpenAI SDK and checked against OpenAI's
published schemas (vendored in openapi.yaml): text, a function call, a reasoning item, a response
cut by `max_output_tokens`, each complete and streamed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import openai
import orjson
import pytest
from openai import AsyncOpenAI

from edge_http.openapi.document import load_document
from tests.e2e.test_openapi_live import Contract
from tests.fakes.openai_upstream import running_fake

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
ASKED: list[dict[str, Any]] = [
    {"input": "Say something in Latin."},
    {"input": "Weather in Rome?", "tools": [WEATHER]},
    {"input": "Think first.", "reasoning": {"effort": "low"}},
    {"input": "Cut me short.", "max_output_tokens": 5},
]


@pytest.fixture(scope="module")
async def api() -> AsyncIterator[AsyncOpenAI]:
    async with running_fake() as url:
        yield AsyncOpenAI(base_url=url, api_key="any", max_retries=0)


@pytest.fixture(scope="module")
def contract() -> Contract:
    return Contract(load_document())


@pytest.mark.parametrize("asked", ASKED, ids=["text", "function", "reasoning", "incomplete"])
async def test_answers_and_streams_match_openais_schemas(
    api: AsyncOpenAI, contract: Contract, asked: dict[str, Any]
) -> None:
    complete = await api.responses.with_raw_response.create(model="gpt-5-mini", **asked)
    body = orjson.loads(complete.content)
    assert contract.errors("/components/schemas/OpenAIResponse", body) == []
    assert body["usage"]["total_tokens"] == body["usage"]["input_tokens"] + body["usage"]["output_tokens"]
    events = []
    async with api.responses.stream(model="gpt-5-mini", **asked) as stream:
        async for event in stream:
            events.append(event.model_dump(mode="json", exclude_unset=True, warnings=False))
    assert [event["sequence_number"] for event in events] == list(range(len(events)))
    assert [contract.errors("/components/schemas/OpenAIResponseStreamEvent", e) for e in events] == [[]] * len(events)
    # the last event carries the complete answer (the SDK's final-response helper knows only `completed`)
    assert events[-1]["type"] == ("response.incomplete" if "max_output_tokens" in asked else "response.completed")
    final = events[-1]["response"]
    assert [(item["type"], item["id"]) for item in final["output"]] == [
        (item["type"], item["id"]) for item in body["output"]
    ]
    assert final["usage"] == body["usage"]
    deltas = "".join(e["delta"] for e in events if e["type"] == "response.output_text.delta")
    assert deltas == "".join(p["text"] for i in body["output"] if i["type"] == "message" for p in i["content"])


async def test_a_previous_response_id_is_not_found_the_fake_stores_nothing(api: AsyncOpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        await api.responses.create(model="gpt-5-mini", input="again", previous_response_id="resp_abc")
    assert refused.value.code == "previous_response_not_found"
