"""The Responses API through the real OpenAI SDK: metered like chat, stored, chained, streamed with
OpenAI's semantic events, function tools round-tripped, and every refusal in the envelope."""

from __future__ import annotations

import json
import secrets
from decimal import Decimal

import openai
import pytest

from edge_http.openapi.document import load_document
from tests.e2e.test_chat_completions import expected_cost_usd, settled
from tests.e2e.test_openapi_live import Contract
from tests.harness import Stack

MODEL = "fc:openai/gpt-4o-mini"
WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "The weather in a city.",
    "parameters": {
        "type": "object",
        "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
        "required": ["city", "days"],
        "additionalProperties": False,
    },
}


def client(stack: Stack, key: str | None = None, customer: str | None = None) -> openai.OpenAI:
    headers = {"FC-Customer": customer} if customer else None
    return openai.OpenAI(
        base_url=stack.base_url + "/v1", api_key=key or stack.live_key, max_retries=0, default_headers=headers
    )


def sent_with(stack: Stack, marker: str) -> list[dict[str, object]]:
    """The chat bodies the provider received whose messages hold `marker`, oldest first."""
    return [r["body"] for r in stack.upstream.requests() if marker in json.dumps(r["body"])]  # type: ignore[union-attr]


def new_customer(stack: Stack, key: str | None = None) -> str:
    response = stack.call("POST", "/v1/customers", key or stack.live_key, {"external_id": "u_" + secrets.token_hex(6)})
    assert response.status == 201, response.body
    return str(response.json()["id"])


@pytest.mark.both_backends
def test_a_response_is_metered_to_the_customer_and_reads_back(stack: Stack) -> None:
    customer = new_customer(stack)
    raw = client(stack, customer=customer).responses.with_raw_response.create(
        model=MODEL, input="Say hello", instructions="Be brief."
    )
    response = raw.parse()
    assert raw.headers["x-ringside-model-resolved"] == MODEL
    assert response.id.startswith("resp_") and response.object == "response"
    assert response.status == "completed"
    assert response.output_text and response.output[0].type == "message"
    assert response.usage is not None and response.usage.total_tokens == (
        response.usage.input_tokens + response.usage.output_tokens
    )
    after = settled(stack, customer, 1)
    assert Decimal(str(after["spend_usd_mtd"])) == expected_cost_usd(
        response.usage.input_tokens, response.usage.output_tokens
    )
    # stored by default: read back as it was answered, and its input items listed
    again = client(stack, customer=customer).responses.retrieve(response.id)
    assert again.id == response.id and again.output_text == response.output_text
    items = client(stack, customer=customer).responses.input_items.list(response.id)
    assert [item.type for item in items.data] == ["message"]
    assert items.data[0].content[0].text == "Say hello"  # type: ignore[union-attr]


def test_instructions_and_input_are_relayed_to_openai_as_a_response(stack: Stack) -> None:
    """OpenAI serves Responses itself: the request reaches it in its own format, stored nowhere there."""
    marker = "Bonjour " + secrets.token_hex(4)
    client(stack).responses.create(
        model=MODEL,
        instructions="You are terse.",
        input=[
            {"role": "developer", "content": "Answer in French."},
            {"role": "user", "content": [{"type": "input_text", "text": marker}]},
        ],
        max_output_tokens=50,
        temperature=0.2,
    )
    [sent] = sent_with(stack, marker)
    assert "messages" not in sent and sent["instructions"] == "You are terse."
    assert sent["input"] == [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "Answer in French."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": marker}]},
    ]
    assert sent["max_output_tokens"] == 50 and sent["temperature"] == 0.2 and sent["store"] is False


def _texts(sent: dict[str, object]) -> list[str]:
    """The text of each input item a relayed request carried."""
    texts = []
    for item in sent["input"]:  # type: ignore[attr-defined]
        content = item["content"]
        texts.append(content if isinstance(content, str) else "".join(part["text"] for part in content))
    return texts


def test_previous_response_id_continues_the_conversation(stack: Stack) -> None:
    """Ringside keeps the conversation: the provider is sent the whole chain, never our ids."""
    customer = new_customer(stack)
    api = client(stack, customer=customer)
    name = "Ada" + secrets.token_hex(4)
    first = api.responses.create(model=MODEL, input=f"My name is {name}.")
    second = api.responses.create(model=MODEL, input="What is my name?", previous_response_id=first.id)
    third = api.responses.create(model=MODEL, input="And again?", previous_response_id=second.id)
    _, to_second, to_third = sent_with(stack, name)
    assert _texts(to_second) == [f"My name is {name}.", first.output_text, "What is my name?"]
    assert _texts(to_third) == [
        f"My name is {name}.",
        first.output_text,
        "What is my name?",
        second.output_text,
        "And again?",
    ]
    assert "previous_response_id" not in to_third and to_third["store"] is False
    assert third.previous_response_id == second.id and third.id.startswith("resp_")
    sent_bodies = [json.dumps(r["body"]) for r in stack.upstream.requests()]  # type: ignore[union-attr]
    assert not any(ours in body for ours in (first.id, second.id) for body in sent_bodies)


@pytest.mark.both_backends
def test_another_customer_cannot_see_or_continue_a_stored_response(stack: Stack) -> None:
    owner, other = new_customer(stack), new_customer(stack)
    response = client(stack, customer=owner).responses.create(model=MODEL, input="secret plans")
    for call in (
        lambda api: api.responses.retrieve(response.id),
        lambda api: api.responses.input_items.list(response.id),
        lambda api: api.responses.delete(response.id),
    ):
        with pytest.raises(openai.NotFoundError):
            call(client(stack, customer=other))
    with pytest.raises(openai.NotFoundError) as refused:
        client(stack, customer=other).responses.create(model=MODEL, input="go on", previous_response_id=response.id)
    assert refused.value.code == "previous_response_not_found"
    # the account itself sees it, and the owner deletes it
    assert client(stack).responses.retrieve(response.id).id == response.id
    client(stack, customer=owner).responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client(stack, customer=owner).responses.retrieve(response.id)


def test_store_false_keeps_nothing(stack: Stack) -> None:
    response = client(stack).responses.create(model=MODEL, input="forget me", store=False)
    assert response.store is False
    with pytest.raises(openai.NotFoundError):
        client(stack).responses.retrieve(response.id)


def test_a_function_tool_round_trip(stack: Stack) -> None:
    api = client(stack)
    marker = "Weather in Paris? " + secrets.token_hex(4)
    first = api.responses.create(model=MODEL, input=marker, tools=[WEATHER])  # type: ignore[list-item]
    [call] = [item for item in first.output if item.type == "function_call"]
    assert call.name == "get_weather" and json.loads(call.arguments) == {"city": "lorem", "days": 1}
    second = api.responses.create(
        model=MODEL,
        previous_response_id=first.id,
        tools=[WEATHER],  # type: ignore[list-item]
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temp_c": 21}'}],
    )
    assert second.output_text
    _, sent = sent_with(stack, marker)
    assert sent["input"][-2:] == [  # type: ignore[index]
        {"type": "function_call", "call_id": call.call_id, "name": "get_weather", "arguments": call.arguments},
        {"type": "function_call_output", "call_id": call.call_id, "output": '{"temp_c": 21}'},
    ]
    assert sent["tools"] == [WEATHER]


def test_a_stream_follows_openais_event_order_and_the_sdk_helper_reads_it(stack: Stack) -> None:
    customer = new_customer(stack)
    api = client(stack, customer=customer)
    with api.responses.stream(model=MODEL, input="Tell me a story") as stream:
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert kinds[:4] == [
        "response.created",
        "response.in_progress",
        "response.output_item.added",
        "response.content_part.added",
    ]
    assert kinds[-4:] == [
        "response.output_text.done",
        "response.content_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert [event.sequence_number for event in events] == list(range(len(events)))
    deltas = "".join(event.delta for event in events if event.type == "response.output_text.delta")
    assert deltas == final.output_text and final.usage is not None and final.usage.output_tokens > 0
    after = settled(stack, customer, 1)
    assert Decimal(str(after["spend_usd_mtd"])) == expected_cost_usd(
        final.usage.input_tokens, final.usage.output_tokens
    )
    assert api.responses.retrieve(final.id).output_text == final.output_text  # a stream is stored too


def test_a_streamed_function_call(stack: Stack) -> None:
    with client(stack).responses.stream(model=MODEL, input="Weather?", tools=[WEATHER]) as stream:  # type: ignore[list-item]
        events = list(stream)
        final = stream.get_final_response()
    kinds = [event.type for event in events]
    assert "response.function_call_arguments.delta" in kinds
    assert kinds[-3:] == ["response.function_call_arguments.done", "response.output_item.done", "response.completed"]
    [call] = final.output
    assert call.type == "function_call" and json.loads(call.arguments) == {"city": "lorem", "days": 1}


def test_test_keys_answer_from_the_test_model(stack: Stack) -> None:
    response = client(stack, key=stack.test_key).responses.create(model=MODEL, input="hi")
    assert response.status == "completed" and response.output_text


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": MODEL}, "input"),
        ({"model": MODEL, "input": []}, "input"),
        ({"model": MODEL, "input": "x", "tools": [{"type": "web_search"}]}, "tools[0]"),
        ({"model": MODEL, "input": "x", "bogus": 1}, "bogus"),
        ({"model": MODEL, "input": "x", "max_output_tokens": 2}, "max_output_tokens"),
        ({"model": MODEL, "input": [{"role": "robot", "content": "x"}]}, "input[0].role"),
        ({"model": MODEL, "input": "x", "background": True}, "background"),
        ({"model": MODEL, "input": "x", "text": {"format": {"type": "xml"}}}, "text.format"),
        ({"model": "gpt-4o", "input": "x"}, "model"),
    ],
)
def test_bad_requests_are_400_in_the_envelope(stack: Stack, body: dict[str, object], param: str) -> None:
    response = stack.call("POST", "/v1/responses", stack.live_key, body)
    assert response.status == 400, response.body
    error = response.json()["error"]
    assert error["param"] == param and error["type"] == "invalid_request_error"


@pytest.mark.both_backends
def test_a_budget_refusal_is_402_before_anything_is_stored(stack: Stack) -> None:
    response = stack.call(
        "POST", "/v1/customers", stack.live_key, {"external_id": "broke_" + secrets.token_hex(4), "budget_usd": 0}
    )
    customer = response.json()["id"]
    with pytest.raises(openai.APIStatusError) as refused:
        client(stack, customer=customer).responses.create(model=MODEL, input="hello")
    assert refused.value.status_code == 402
    assert refused.value.code == "customer_budget_exceeded"


def _events(body: bytes) -> list[dict[str, object]]:
    """The `data:` payloads of an SSE body, checking each `event:` line names its payload's type."""
    events = []
    for block in body.decode().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "data" in lines:
            event = json.loads(lines["data"])
            assert lines.get("event") == event["type"]
            events.append(event)
    return events


def test_bodies_and_stream_events_match_openais_published_schemas(stack: Stack) -> None:
    contract = Contract(load_document())
    body = {"model": MODEL, "input": "Weather?", "tools": [WEATHER], "metadata": {"k": "v"}}
    created = contract.check("POST", "/v1/responses", stack.call("POST", "/v1/responses", stack.live_key, body), 200)
    path = f"/v1/responses/{created['id']}"
    contract.check("GET", "/v1/responses/{id}", stack.call("GET", path, stack.live_key), 200)
    contract.check(
        "GET", "/v1/responses/{id}/input_items", stack.call("GET", path + "/input_items", stack.live_key), 200
    )
    pointer = contract.schema_pointer("POST", "/v1/responses", 200, "text/event-stream")
    for streamed in ({"model": MODEL, "input": "a story", "stream": True}, {**body, "stream": True}):
        response = stack.call("POST", "/v1/responses", stack.live_key, streamed)
        assert response.status == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = _events(response.body)
        assert events and all(contract.errors(pointer, event) == [] for event in events), [
            contract.errors(pointer, event) for event in events
        ]
    contract.check("DELETE", "/v1/responses/{id}", stack.call("DELETE", path, stack.live_key), 200)
    contract.check("GET", "/v1/responses/{id}", stack.call("GET", path, stack.live_key), 404)


def test_a_stream_that_breaks_upstream_ends_with_response_failed_and_is_stored_as_failed(stack: Stack) -> None:
    body = {"model": MODEL, "input": "[[fake:midstream_error]] go", "stream": True}
    response = stack.call("POST", "/v1/responses", stack.live_key, body)
    events = _events(response.body)
    assert [e["type"] for e in events][:2] == ["response.created", "response.in_progress"]
    assert events[-1]["type"] == "response.failed"
    failed = events[-1]["response"]
    assert failed["status"] == "failed" and failed["error"]["code"] == "server_error"  # type: ignore[index]
    stored = stack.call("GET", f"/v1/responses/{failed['id']}", stack.live_key)  # type: ignore[index]
    assert stored.status == 200 and stored.json()["status"] == "failed"  # as OpenAI keeps a failed response
