"""The Assistants API (kept for compatibility), driven by the real OpenAI SDK's beta helpers: runs
execute as Temporal workflows in the worker, metered per model call to the thread's customer,
file_search searching Ringside's own stores, function tools through requires_action; a run
cancelled, stopped by a budget, hidden from another customer, finished once after its worker is
killed. (Streamed runs: test_assistants_streaming.py; Client Tokens: test_assistants_client_tokens.py.)"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
from openai.pagination import SyncCursorPage
from openai.types.beta import Assistant, Thread
from openai.types.beta.threads import Message, Run
from pydantic import BaseModel

from edge_http.openapi.document import load_document
from tests.e2e.assistants_stack import (
    HANDBOOK,
    MODEL,
    WEATHER,
    Events,
    Running,
    new_customer,
    sdk_for,
    sent_bodies,
)
from tests.e2e.test_openapi_live import Contract
from tests.harness import START_TIMEOUT_S, FakeUpstream, Stack, wait_until


def test_create_and_poll_with_file_search(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = new_customer(stack, key, "as_reader")
    sdk = sdk_for(stack, key, customer)
    store = sdk.vector_stores.create(name="handbook")
    done = sdk.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=("holidays.md", HANDBOOK))
    assert done.status == "completed", done
    # one assistant of the account serves every customer's threads
    assistant = sdk_for(stack, key).beta.assistants.create(
        model=MODEL, instructions="Answer from the handbook.", tools=[{"type": "file_search"}]
    )
    question = "How do I ask for a vacation? (as-1)"
    thread = sdk.beta.threads.create(
        messages=[{"role": "user", "content": question}],
        tool_resources={"file_search": {"vector_store_ids": [store.id]}},
    )
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    assert run.usage is not None and run.usage.total_tokens > 0
    answer, asked = sdk.beta.threads.messages.list(thread_id=thread.id).data  # newest first
    assert asked.content[0].text.value == question  # type: ignore[union-attr]
    assert answer.role == "assistant" and answer.run_id == run.id and answer.assistant_id == assistant.id
    text = answer.content[0].text  # type: ignore[union-attr]
    assert text.value and [a.file_citation.file_id for a in text.annotations] == [done.id]  # type: ignore[union-attr]
    [sent] = sent_bodies(upstream, question)
    assert sent["messages"][0] == {"role": "system", "content": "Answer from the handbook."}
    context, last = sent["messages"][-2:]
    assert context["role"] == "system" and "time off two weeks ahead" in context["content"]
    assert last == {"role": "user", "content": question} and "tools" not in sent
    usage = stack.call("GET", f"/v1/usage?customer_id={customer}&group_by=model", key).json()
    assert {"fc:local/all-minilm-l6-v2", MODEL} <= {row["model"] for row in usage["data"]}
    _in_openais_types(stack, key, customer, f"/v1/threads/{thread.id}", f"/v1/assistants/{assistant.id}", run.id)
    steps = sdk.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id, order="asc").data
    assert [step.type for step in steps] == ["tool_calls", "message_creation"]
    [searched] = steps[0].step_details.tool_calls  # type: ignore[union-attr]
    assert searched.type == "file_search"
    [result] = searched.file_search.results or []  # type: ignore[union-attr]
    assert (result.file_id, result.file_name, result.content) == (done.id, "holidays.md", None)
    assert 0 < result.score <= 1
    assert steps[1].step_details.message_creation.message_id == answer.id  # type: ignore[union-attr]
    # OpenAI's include[] gives each result's text too
    with_content = sdk.beta.threads.runs.steps.retrieve(
        step_id=steps[0].id,
        run_id=run.id,
        thread_id=thread.id,
        include=["step_details.tool_calls[*].file_search.results[*].content"],
    )
    [[text]] = [r.content for r in with_content.step_details.tool_calls[0].file_search.results]  # type: ignore[union-attr]
    assert text.type == "text" and "time off two weeks ahead" in (text.text or "")
    # streamed, the search is a step of its own, its call in a step delta (the SDK's tool-call callbacks)
    handler = Events()
    with sdk.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as stream:
        stream.until_done()
    assert handler.steps == [
        ("created", "tool_calls", "in_progress"),
        ("done", "tool_calls", "completed"),
        ("created", "message_creation", "in_progress"),
        ("done", "message_creation", "completed"),
    ]
    assert handler.tool_calls == ["file_search"] and handler.seen[-1] == "thread.run.completed"
    # each event as sent, against OpenAI's published schema of the Assistants stream
    sent = stack.call(
        "POST",
        f"/v1/threads/{thread.id}/runs",
        key,
        {"assistant_id": assistant.id, "stream": True},
        headers={"FC-Customer": customer},
    )
    assert sent.status == 200, sent.body
    events = [
        (head.removeprefix("event: "), data.removeprefix("data: "))
        for head, data in (frame.split("\n", 1) for frame in sent.body.decode().strip().split("\n\n"))
    ]
    assert [name for name, _ in events if name.startswith("thread.run.step.")] == [
        *("thread.run.step.created", "thread.run.step.in_progress", "thread.run.step.delta"),
        *("thread.run.step.completed", "thread.run.step.created", "thread.run.step.in_progress"),
        "thread.run.step.completed",
    ]
    contract = Contract(load_document())
    for name, data in events:
        event = {"event": name, "data": data if data == "[DONE]" else json.loads(data)}
        assert contract.errors("/components/schemas/OpenAIAssistantStreamEvent", event) == [], name


def _in_openais_types(stack: Stack, key: str, customer: str, thread: str, assistant: str, run_id: str) -> None:
    """Every body validates against the SDK's types (generated from OpenAI's published document),
    strictly: a missing field, a wrong type or a status off OpenAI's enum fails."""
    shapes: list[tuple[str, type[BaseModel]]] = [
        (thread, Thread),
        (assistant, Assistant),
        (f"{thread}/runs/{run_id}", Run),
        (f"{thread}/messages", SyncCursorPage[Message]),
        (f"{thread}/runs", SyncCursorPage[Run]),
        ("/v1/assistants?limit=100", SyncCursorPage[Assistant]),
    ]
    contract = Contract(load_document())
    for path, shape in shapes:
        answer = stack.call("GET", path, key, headers={"FC-Customer": customer})
        assert answer.status == 200, answer.body
        shape.model_validate(answer.json(), strict=True)
        # and against OpenAI's published schemas (vendored): the documented answer of each route
        route = _ROUTES[path.replace(thread, "{t}").replace(assistant, "{a}").replace(run_id, "{r}")]
        assert contract.errors(route, answer.json()) == [], path
    for published, path in (
        ("OpenAIRunObject", f"{thread}/runs/{run_id}"),
        ("OpenAIListRunStepsResponse", f"{thread}/runs/{run_id}/steps"),
        ("OpenAIListMessagesResponse", f"{thread}/messages"),
        ("OpenAIListAssistantsResponse", "/v1/assistants?limit=100"),
    ):
        answer = stack.call("GET", path, key, headers={"FC-Customer": customer})
        assert contract.errors(f"/components/schemas/{published}", answer.json()) == [], path


_ROUTES = {  # the documented schema of each GET in _in_openais_types
    "{t}": "/components/responses/Thread/content/application~1json/schema",
    "{a}": "/components/responses/Assistant/content/application~1json/schema",
    "{t}/runs/{r}": "/components/responses/Run/content/application~1json/schema",
    "{t}/messages": "/components/responses/AssistantsList/content/application~1json/schema",
    "{t}/runs": "/components/responses/AssistantsList/content/application~1json/schema",
    "/v1/assistants?limit=100": "/components/responses/AssistantsList/content/application~1json/schema",
}


def test_a_function_tool_round_trip(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = new_customer(stack, key, "as_tools")
    sdk = sdk_for(stack, key, customer)
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[WEATHER])
    question = "Weather in Lyon? (as-2)"
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": question}])
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action" and run.required_action is not None
    [call] = run.required_action.submit_tool_outputs.tool_calls
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"city": "lorem"}
    run = sdk.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call.id, "output": "sunny, 21 C"}]
    )
    assert run.status == "completed", run.last_error
    first, second = sent_bodies(upstream, question)
    assert first["tools"][0]["function"]["name"] == "get_weather"
    assert second["messages"][-2]["tool_calls"][0]["id"] == call.id
    assert second["messages"][-1] == {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21 C"}
    messages = sdk.beta.threads.messages.list(thread_id=thread.id, order="asc").data
    assert [m.role for m in messages] == ["user", "assistant"]
    steps = sdk.beta.threads.runs.steps.list(run_id=run.id, thread_id=thread.id).data  # newest first
    assert [(step.type, step.status) for step in steps] == [
        ("message_creation", "completed"),
        ("tool_calls", "completed"),
    ]
    [function] = steps[1].step_details.tool_calls  # type: ignore[union-attr]
    assert function.id == call.id and function.function.output == "sunny, 21 C"  # type: ignore[union-attr]
    assert steps[1].usage is not None and steps[1].usage.total_tokens > 0
    again = sdk.beta.threads.runs.steps.retrieve(step_id=steps[0].id, run_id=run.id, thread_id=thread.id)
    assert again == steps[0]
    with pytest.raises(openai.NotFoundError):
        sdk.beta.threads.runs.steps.retrieve(step_id="step_nope", run_id=run.id, thread_id=thread.id)
    usage = stack.call("GET", f"/v1/usage?customer_id={customer}&group_by=model", key).json()
    [row] = usage["data"]
    assert row["model"] == MODEL and row["request_count"] == 2, usage  # one record per model call


def test_create_thread_and_run_gives_the_model_only_the_last_messages(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    sdk = sdk_for(stack, key, new_customer(stack, key, "as_one_call"))
    assistant = sdk.beta.assistants.create(model=MODEL, instructions="Be brief.")
    early, late = "Forget this (as-8)", "Only this counts (as-8)"
    run = sdk.beta.threads.create_and_run_poll(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": early}, {"role": "user", "content": late}]},
        truncation_strategy={"type": "last_messages", "last_messages": 1},
    )
    assert run.status == "completed", run.last_error
    assert run.truncation_strategy is not None and run.truncation_strategy.last_messages == 1
    [sent] = sent_bodies(upstream, late)
    assert [m["content"] for m in sent["messages"]] == ["Be brief.", late]
    assert [m.role for m in sdk.beta.threads.messages.list(thread_id=run.thread_id).data] == [
        "assistant",
        "user",
        "user",
    ]
    with pytest.raises(openai.BadRequestError) as refused:
        sdk.beta.threads.create_and_run(
            assistant_id=assistant.id, truncation_strategy={"type": "last_messages", "last_messages": 0}
        )
    assert refused.value.body["param"] == "truncation_strategy.last_messages"  # type: ignore[index]
    threads_before = stack.query("SELECT count(*) FROM assistant_objects WHERE kind = 'thread'")
    with pytest.raises(openai.NotFoundError):  # an unknown assistant: no thread is left behind
        sdk.beta.threads.create_and_run(
            assistant_id="asst_nope", thread={"messages": [{"role": "user", "content": "x"}]}
        )
    assert stack.query("SELECT count(*) FROM assistant_objects WHERE kind = 'thread'") == threads_before


def test_a_run_waiting_for_tool_outputs_is_cancelled(running: Running) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    sdk = sdk_for(stack, key, new_customer(stack, key, "as_cancel"))
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[WEATHER])
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Weather in Oslo? (as-4)"}])
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action"
    cancelling = sdk.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    assert cancelling.status == "cancelling"
    cancelled = sdk.beta.threads.runs.poll(run_id=run.id, thread_id=thread.id, poll_interval_ms=200)
    assert cancelled.status == "cancelled" and cancelled.cancelled_at is not None
    assert cancelled.required_action is None
    with pytest.raises(openai.BadRequestError):
        sdk.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    assert [m.role for m in sdk.beta.threads.messages.list(thread_id=thread.id).data] == ["user"]


def test_a_budget_stops_a_run_between_model_calls(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = new_customer(stack, key, "as_budget")
    sdk = sdk_for(stack, key, customer)
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[WEATHER])
    question = "Weather in Turin? (as-5)"
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": question}])
    run = sdk.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "requires_action" and run.required_action is not None
    assert stack.call("PATCH", f"/v1/customers/{customer}", key, {"budget_usd": 0}).status == 200
    [call] = run.required_action.submit_tool_outputs.tool_calls
    run = sdk.beta.threads.runs.submit_tool_outputs_and_poll(
        run_id=run.id, thread_id=thread.id, tool_outputs=[{"tool_call_id": call.id, "output": "rain"}]
    )
    assert run.status == "failed" and run.last_error is not None
    assert run.last_error.code == "customer_budget_exceeded"  # type: ignore[comparison-overlap]
    assert len(sent_bodies(upstream, question)) == 1  # the second call was refused before the provider
    assert stack.audit().ok


def test_another_customers_thread_and_run_are_not_found(running: Running) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    mine = sdk_for(stack, key, new_customer(stack, key, "as_owner"))
    theirs = sdk_for(stack, key, new_customer(stack, key, "as_other"))
    assistant = mine.beta.assistants.create(model=MODEL, tools=[WEATHER])
    thread = mine.beta.threads.create(messages=[{"role": "user", "content": "Weather in Graz? (as-6)"}])
    run = mine.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    calls: list[Any] = [
        lambda: theirs.beta.threads.retrieve(thread.id),
        lambda: theirs.beta.threads.messages.list(thread_id=thread.id),
        lambda: theirs.beta.threads.messages.create(thread_id=thread.id, role="user", content="hi"),
        lambda: theirs.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id),
        lambda: theirs.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id),
        lambda: theirs.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id),
        lambda: theirs.beta.assistants.retrieve(assistant.id),  # a customer's own assistant
        lambda: theirs.beta.threads.delete(thread.id),
    ]
    for call in calls:
        with pytest.raises(openai.NotFoundError):
            call()
    assert mine.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id).status == "requires_action"


def test_a_worker_killed_mid_call_finishes_the_run_once(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = new_customer(stack, key, "as_crash")
    sdk = sdk_for(stack, key, customer)
    assistant = sdk.beta.assistants.create(model=MODEL)
    question = "[[fake:slow=150]] Tell me slowly (as-7)"  # 16 tokens, 2.4 s (within the upstream timeout)
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": question}])
    run = sdk.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_until(lambda: sent_bodies(upstream, question), 30, "the run's model call")
    running.kill_worker()  # mid-call: no drain, the activity is lost with the process
    running.start_worker()
    done = wait_until(
        lambda: (
            (r := sdk.beta.threads.runs.retrieve(run_id=run.id, thread_id=thread.id)).status
            not in ("queued", "in_progress")
            and r
        ),
        START_TIMEOUT_S + 60,
        "the run to finish on the restarted worker",
    )
    assert done.status == "completed", done.last_error
    answers = [m for m in sdk.beta.threads.messages.list(thread_id=thread.id).data if m.role == "assistant"]
    assert len(answers) == 1 and answers[0].run_id == run.id  # the run finished once
    assert len(sent_bodies(upstream, question)) == 2  # the killed call, and the retried one
    usage = stack.call("GET", f"/v1/usage?customer_id={customer}&group_by=model", key).json()
    # the answered call is settled once; the killed one's hold stays until it expires, and is then
    # posted at its reserved amount (ARCHITECTURE.md "The hot path" 5): billed once, never twice
    assert [row["request_count"] for row in usage["data"]] == [1]
    audit = stack.audit()
    assert audit.ok and audit.multiply_resolved_holds == 0 and audit.open_holds == 1
