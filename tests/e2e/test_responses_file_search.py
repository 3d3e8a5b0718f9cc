"""The Responses API's file_search tool: Ringside searches the caller's own vector stores, gives
the model what it found, and answers with a file_search_call item and file_citation annotations;
the query's embedding and the model call are both metered to the customer."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from edge_http.openapi.document import load_document
from tests.e2e.assistants_stack import Running
from tests.e2e.test_openapi_live import Contract
from tests.harness import FakeUpstream, Stack

MODEL = "fc:openai/gpt-4o-mini"
HANDBOOK = b"# Holidays\n\nAsk for time off two weeks ahead in the HR portal. Unused days carry over.\n"
COFFEE = b"# Kitchen\n\nThe espresso machine on the third floor is descaled every Friday.\n"


@pytest.fixture(scope="module")
def stack(running: Running) -> Stack:
    """The Assistants files' session stack (tests/e2e/conftest.py): an ingest stack on SQLite whose
    OpenAI provider is the fake upstream (its worker plays no part here)."""
    return running.stack


def _sdk(stack: Stack, key: str, customer: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url=stack.base_url + "/v1", api_key=key, max_retries=0, default_headers={"FC-Customer": customer}
    )


def _store(stack: Stack, sdk: openai.OpenAI) -> str:
    store = sdk.vector_stores.create(name="handbook")
    for name, content in (("holidays.md", HANDBOOK), ("kitchen.md", COFFEE)):  # as the README does it
        done = sdk.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=(name, content))
        assert done.status == "completed", done
    return store.id


def test_file_search_answers_with_the_call_its_results_and_citations(stack: Stack, upstream: FakeUpstream) -> None:
    key = stack.new_account()["live"]
    customer = stack.call("POST", "/v1/customers", key, {"external_id": "fs_reader"}).json()["id"]
    sdk = _sdk(stack, key, customer)
    store = _store(stack, sdk)
    question = "How do I request a vacation? (fs-1)"
    raw = sdk.responses.with_raw_response.create(
        model=MODEL,
        input=question,
        tools=[{"type": "file_search", "vector_store_ids": [store], "max_num_results": 2}],
        include=["file_search_call.results"],
    )
    response = raw.parse()
    call, message = response.output
    assert call.type == "file_search_call" and call.status == "completed" and call.queries == [question]
    assert call.results and call.results[0].filename == "holidays.md"  # the right file first
    assert message.type == "message"
    cited = [a.filename for a in message.content[0].annotations]  # type: ignore[union-attr]
    assert "holidays.md" in cited
    # the model was given what the search found, before the question
    [sent] = [r["body"] for r in upstream.requests() if question in json.dumps(r["body"])]
    context, asked = sent["messages"][-2:]
    assert context["role"] == "system" and "time off two weeks ahead" in context["content"]
    assert asked == {"role": "user", "content": question} and "tools" not in sent
    # both calls are metered to the customer: the query's embedding (local model) and the chat
    usage = stack.call("GET", f"/v1/usage?customer_id={customer}&group_by=model", key).json()
    models = {row["model"] for row in usage["data"]}
    assert {"fc:local/all-minilm-l6-v2", MODEL} <= models
    Contract(load_document()).check(
        "GET", "/v1/responses/{id}", stack.call("GET", f"/v1/responses/{response.id}", key), 200
    )


def test_results_only_when_included_and_a_stream_carries_the_call(stack: Stack) -> None:
    key = stack.new_account()["live"]
    customer = stack.call("POST", "/v1/customers", key, {"external_id": "fs_streamer"}).json()["id"]
    sdk = _sdk(stack, key, customer)
    store = _store(stack, sdk)
    tool: Any = {"type": "file_search", "vector_store_ids": [store]}
    plain = sdk.responses.create(model=MODEL, input="Where is the espresso machine?", tools=[tool])
    assert plain.output[0].type == "file_search_call" and plain.output[0].results is None  # type: ignore[union-attr]
    with sdk.responses.stream(model=MODEL, input="When is the coffee machine cleaned?", tools=[tool]) as stream:
        kinds = [event.type for event in stream]
        final = stream.get_final_response()
    assert kinds[2:7] == [
        "response.output_item.added",
        "response.file_search_call.in_progress",
        "response.file_search_call.searching",
        "response.file_search_call.completed",
        "response.output_item.done",
    ]
    assert "response.output_text.annotation.added" in kinds and kinds[-1] == "response.completed"
    assert [item.type for item in final.output] == ["file_search_call", "message"]


def test_another_customers_store_is_not_found(stack: Stack) -> None:
    key = stack.new_account()["live"]
    owner, other = (stack.call("POST", "/v1/customers", key, {"external_id": n}).json()["id"] for n in ("o1", "o2"))
    store = _store(stack, _sdk(stack, key, owner))
    with pytest.raises(openai.NotFoundError):
        _sdk(stack, key, other).responses.create(
            model=MODEL, input="holidays?", tools=[{"type": "file_search", "vector_store_ids": [store]}]
        )
