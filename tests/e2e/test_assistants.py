"""The Assistants API (kept for compatibility), driven by the real OpenAI SDK's beta helpers: runs
execute as Temporal workflows in the worker, metered per model call to the thread's customer,
file_search searching Ringside's own stores, function tools through requires_action."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import jwt
import openai
import pytest
from openai.lib.streaming import AssistantEventHandler
from openai.pagination import SyncCursorPage
from openai.types.beta import Assistant, AssistantStreamEvent, Thread
from openai.types.beta.threads import Message, Run
from openai.types.beta.threads.runs import RunStep, ToolCall
from pydantic import BaseModel

from edge_http.openapi.document import load_document
from tests.e2e.rag_ingest_stack import ingest_stack
from tests.e2e.test_openapi_live import Contract
from tests.harness import START_TIMEOUT_S, FakeUpstream, Stack, start_process, stop_process, wait_until

MODEL = "fc:openai/gpt-4o-mini"
HANDBOOK = b"# Holidays\n\nAsk for time off two weeks ahead in the HR portal. Unused days carry over.\n"
WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "The weather in a city.",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}


class Running:
    """The ingest stack (Temporal, core, rag role, edge) plus the worker that runs the runs."""

    def __init__(self, stack: Stack) -> None:
        self.stack = stack
        self.worker: subprocess.Popen[bytes] | None = None

    def start_worker(self) -> None:
        self.worker = start_process(
            [sys.executable, "-m", "ringside_cli", "worker"], self.stack.env, self.stack.data_dir / "worker.log"
        )

    def kill_worker(self) -> None:
        assert self.worker is not None
        self.worker.send_signal(signal.SIGKILL)
        self.worker.wait()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory, upstream: FakeUpstream) -> Iterator[Running]:
    env = {"OPENAI_BASE_URL": upstream.base_url, "OPENAI_API_KEY": upstream.api_key}
    with ingest_stack("sqlite", tmp_path_factory.mktemp("assistants"), env) as stack:
        both = Running(stack)
        both.start_worker()
        try:
            yield both
        finally:
            stop_process(both.worker)


def _sdk(stack: Stack, key: str, customer: str | None = None) -> openai.OpenAI:
    headers = {"FC-Customer": customer} if customer else {}
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key=key, max_retries=0, default_headers=headers)


def _customer(stack: Stack, key: str, name: str) -> str:
    return str(stack.call("POST", "/v1/customers", key, {"external_id": name}).json()["id"])


def _sent(upstream: FakeUpstream, marker: str) -> list[dict[str, Any]]:
    return [r["body"] for r in upstream.requests() if marker in json.dumps(r["body"]) and "messages" in r["body"]]


def test_create_and_poll_with_file_search(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = _customer(stack, key, "as_reader")
    sdk = _sdk(stack, key, customer)
    store = sdk.vector_stores.create(name="handbook")
    done = sdk.vector_stores.files.upload_and_poll(vector_store_id=store.id, file=("holidays.md", HANDBOOK))
    assert done.status == "completed", done
    # one assistant of the account serves every customer's threads
    assistant = _sdk(stack, key).beta.assistants.create(
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
    [sent] = _sent(upstream, question)
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
    handler = _Events()
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
    customer = _customer(stack, key, "as_tools")
    sdk = _sdk(stack, key, customer)
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
    first, second = _sent(upstream, question)
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


class _Events(AssistantEventHandler):
    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.steps: list[tuple[str, str, str]] = []  # (callback, step type, status)
        self.tool_calls: list[str] = []

    def on_event(self, event: AssistantStreamEvent) -> None:
        self.seen.append(event.event)

    def on_run_step_created(self, run_step: RunStep) -> None:
        self.steps.append(("created", run_step.type, run_step.status))

    def on_run_step_done(self, run_step: RunStep) -> None:
        self.steps.append(("done", run_step.type, run_step.status))

    def on_tool_call_created(self, tool_call: ToolCall) -> None:
        self.tool_calls.append(tool_call.type)


MESSAGE_STEP = [
    "thread.run.step.created",
    "thread.run.step.in_progress",
    "thread.message.created",
    "thread.message.in_progress",
    "thread.message.delta",
    "thread.message.completed",
    "thread.run.step.completed",
]


def test_a_streamed_run_follows_openais_events(running: Running) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    sdk = _sdk(stack, key, _customer(stack, key, "as_stream"))
    assistant = sdk.beta.assistants.create(model=MODEL, instructions="Be brief.")
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Say hello (as-3)"}])
    handler = _Events()
    with sdk.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=handler) as stream:
        stream.until_done()
        [streamed] = stream.get_final_messages()
        final_run = stream.get_final_run()
    # OpenAI's order: the run, its step, the step's message, the step done, the run done
    assert handler.seen == [
        "thread.run.created",
        "thread.run.queued",
        "thread.run.in_progress",
        *MESSAGE_STEP,
        "thread.run.completed",
    ]
    assert final_run.status == "completed"
    assert handler.steps == [("created", "message_creation", "in_progress"), ("done", "message_creation", "completed")]
    [step] = sdk.beta.threads.runs.steps.list(run_id=final_run.id, thread_id=thread.id).data
    assert step.step_details.message_creation.message_id == streamed.id  # type: ignore[union-attr]
    stored = sdk.beta.threads.messages.retrieve(message_id=streamed.id, thread_id=thread.id)
    assert stored.content == streamed.content and stored.content[0].text.value  # type: ignore[union-attr]


def test_a_streamed_function_call_shows_its_step_until_its_outputs(running: Running) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    sdk = _sdk(stack, key, _customer(stack, key, "as_stream_tools"))
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[WEATHER])
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Weather in Bern? (as-10)"}])
    asking = _Events()
    with sdk.beta.threads.runs.stream(thread_id=thread.id, assistant_id=assistant.id, event_handler=asking) as stream:
        stream.until_done()
        waiting = stream.get_final_run()
    assert asking.seen == [
        "thread.run.created",
        "thread.run.queued",
        "thread.run.in_progress",
        "thread.run.step.created",
        "thread.run.step.in_progress",
        "thread.run.step.delta",  # the function call, as OpenAI streams it
        "thread.run.requires_action",
    ]
    assert asking.steps == [("created", "tool_calls", "in_progress")] and asking.tool_calls == ["function"]
    assert waiting.required_action is not None
    [call] = waiting.required_action.submit_tool_outputs.tool_calls
    answering = _Events()
    with sdk.beta.threads.runs.submit_tool_outputs_stream(
        run_id=waiting.id,
        thread_id=thread.id,
        tool_outputs=[{"tool_call_id": call.id, "output": "snow"}],
        event_handler=answering,
    ) as stream:
        stream.until_done()
    assert answering.seen == [
        "thread.run.queued",
        "thread.run.in_progress",
        "thread.run.step.completed",  # the function call's step, given its output
        *MESSAGE_STEP,
        "thread.run.completed",
    ]
    assert answering.steps[0] == ("done", "tool_calls", "completed")


def test_create_thread_and_run_gives_the_model_only_the_last_messages(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    sdk = _sdk(stack, key, _customer(stack, key, "as_one_call"))
    assistant = sdk.beta.assistants.create(model=MODEL, instructions="Be brief.")
    early, late = "Forget this (as-8)", "Only this counts (as-8)"
    run = sdk.beta.threads.create_and_run_poll(
        assistant_id=assistant.id,
        thread={"messages": [{"role": "user", "content": early}, {"role": "user", "content": late}]},
        truncation_strategy={"type": "last_messages", "last_messages": 1},
    )
    assert run.status == "completed", run.last_error
    assert run.truncation_strategy is not None and run.truncation_strategy.last_messages == 1
    [sent] = _sent(upstream, late)
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
    sdk = _sdk(stack, key, _customer(stack, key, "as_cancel"))
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
    customer = _customer(stack, key, "as_budget")
    sdk = _sdk(stack, key, customer)
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
    assert len(_sent(upstream, question)) == 1  # the second call was refused before the provider
    assert stack.audit().ok


def test_another_customers_thread_and_run_are_not_found(running: Running) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    mine = _sdk(stack, key, _customer(stack, key, "as_owner"))
    theirs = _sdk(stack, key, _customer(stack, key, "as_other"))
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
    customer = _customer(stack, key, "as_crash")
    sdk = _sdk(stack, key, customer)
    assistant = sdk.beta.assistants.create(model=MODEL)
    question = "[[fake:slow=150]] Tell me slowly (as-7)"  # 16 tokens, 2.4 s (within the upstream timeout)
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": question}])
    run = sdk.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_until(lambda: _sent(upstream, question), 30, "the run's model call")
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
    assert len(_sent(upstream, question)) == 2  # the killed call, and the retried one
    usage = stack.call("GET", f"/v1/usage?customer_id={customer}&group_by=model", key).json()
    # the answered call is settled once; the killed one's hold stays until it expires, and is then
    # posted at its reserved amount (ARCHITECTURE.md "The hot path" 5): billed once, never twice
    assert [row["request_count"] for row in usage["data"]] == [1]
    audit = stack.audit()
    assert audit.ok and audit.multiply_resolved_holds == 0 and audit.open_holds == 1


ORIGIN = "http://localhost:5173"
BROWSER_ROUTES = [  # what a page needs for seed 002's snippet; `*` stands for a thread or run id
    "POST /v1/threads",
    "POST /v1/threads/*/messages",
    "GET /v1/threads/*/messages",
    "POST /v1/threads/*/runs",
    "GET /v1/threads/*/runs/*",
    "GET /v1/threads/*",
]


def _mint(stack: Stack, key: str, customer: str, routes: list[str] = BROWSER_ROUTES) -> str:
    body = {"origin": ORIGIN, "allowed_endpoints": routes, "ttl_seconds": 600}
    minted = stack.call("POST", f"/v1/customers/{customer}/client_tokens", key, body)
    assert minted.status == 201, minted.body
    return str(minted.json()["token"])


def _browser(stack: Stack, key: str, customer: str, routes: list[str] = BROWSER_ROUTES) -> openai.OpenAI:
    return _page(stack, _mint(stack, key, customer, routes))


def _page(stack: Stack, token: str) -> openai.OpenAI:
    """The OpenAI SDK in a page: a Client Token instead of a key (the SDK's Authorization replaced)."""
    headers = {"Authorization": f"Client {token}", "Origin": ORIGIN}
    return openai.OpenAI(base_url=stack.base_url + "/v1", api_key="unused", max_retries=0, default_headers=headers)


def test_a_token_minted_before_tokens_named_their_key_is_told_to_re_mint(running: Running) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = _customer(stack, key, "as_old_token")
    claims = jwt.decode(_mint(stack, key, customer), options={"verify_signature": False})
    assert claims["key"].startswith("key_")  # the minting key's id
    del claims["key"]  # as tokens were minted until now (the test signs with Ringside's own key)
    kid, pem = stack.query("SELECT kid, private_pem FROM signing_keys WHERE retired_at IS NULL ORDER BY created DESC")[
        0
    ]
    old = _page(stack, jwt.encode(claims, stack.open_sealed(str(pem), "private_pem"), "EdDSA", {"kid": kid}))
    with pytest.raises(openai.AuthenticationError) as refused:
        old.beta.threads.create()
    error = refused.value.body
    assert error["code"] == "invalid_client_token" and "mint a new one" in error["message"]  # type: ignore[index]
    assert error["type"] and error["request_id"]  # type: ignore[index]


def test_a_client_token_runs_its_customers_threads(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer, other = _customer(stack, key, "as_browser"), _customer(stack, key, "as_browser_other")
    assistant = _sdk(stack, key).beta.assistants.create(model=MODEL, instructions="Be brief.")
    browser = _browser(stack, key, customer)
    thread = browser.beta.threads.create()
    question = "Hello from a page (as-9)"
    browser.beta.threads.messages.create(thread_id=thread.id, role="user", content=question)
    run = browser.beta.threads.runs.create_and_poll(thread_id=thread.id, assistant_id=assistant.id)
    assert run.status == "completed", run.last_error
    answer, asked = browser.beta.threads.messages.list(thread_id=thread.id).data
    assert (answer.role, asked.content[0].text.value) == ("assistant", question)  # type: ignore[union-attr]
    assert len(_sent(upstream, question)) == 1
    handler = _Events()
    with browser.beta.threads.runs.stream(
        thread_id=thread.id, assistant_id=assistant.id, event_handler=handler
    ) as stream:
        stream.until_done()
    assert handler.seen[-1] == "thread.run.completed" and ("done", "message_creation", "completed") in handler.steps
    # the thread is the token's customer's, and both runs were metered to it
    assert _sdk(stack, key, customer).beta.threads.retrieve(thread.id).id == thread.id
    usage = stack.call("GET", f"/v1/usage?customer_id={customer}&group_by=model", key).json()
    assert [(row["model"], row["request_count"]) for row in usage["data"]] == [(MODEL, 2)]
    theirs = _sdk(stack, key, other).beta.threads.create(messages=[{"role": "user", "content": "mine"}])
    for call in [
        lambda: browser.beta.threads.create(extra_headers={"FC-Customer": other}),  # as on chat: 404
        lambda: browser.beta.threads.retrieve(theirs.id),
        lambda: browser.beta.threads.messages.create(thread_id=theirs.id, role="user", content="hi"),
        lambda: browser.beta.threads.runs.create(thread_id=theirs.id, assistant_id=assistant.id),
    ]:
        with pytest.raises(openai.NotFoundError):
            call()
    with pytest.raises(openai.PermissionDeniedError) as outside:  # not in the token's whitelist
        browser.beta.threads.runs.cancel(run_id=run.id, thread_id=thread.id)
    assert outside.value.body["code"] == "endpoint_not_allowed"  # type: ignore[index]
    with pytest.raises(openai.PermissionDeniedError) as config:  # whitelisted, but assistants are the account's
        _browser(stack, key, customer, ["POST /v1/assistants"]).beta.assistants.create(model=MODEL)
    assert config.value.body["code"] == "endpoint_not_allowed"  # type: ignore[index]


def test_a_client_tokens_minting_key_bounds_its_runs(running: Running, upstream: FakeUpstream) -> None:
    stack = running.stack
    key = stack.new_account()["live"]
    customer = _customer(stack, key, "as_minter")
    assistant = _sdk(stack, key).beta.assistants.create(model=MODEL)
    # allowed_models: a token minted by a key that may not call the assistant's model runs nothing
    narrow = stack.call("POST", "/v1/api_keys", key, {"scopes": ["api:write"], "allowed_models": ["fc:openai/gpt-4o"]})
    assert narrow.status == 201, narrow.body
    limited = _browser(stack, narrow.json()["secret"], customer)
    empty = limited.beta.threads.create()
    with pytest.raises(openai.PermissionDeniedError) as refused:
        limited.beta.threads.runs.create(thread_id=empty.id, assistant_id=assistant.id)
    assert refused.value.body["code"] == "model_not_allowed"  # type: ignore[index]
    # revoking the minting key: the run under way stops after its model call (billed); no new run starts
    minter = stack.call("POST", "/v1/api_keys", key, {"scopes": ["api:write"]}).json()
    browser = _browser(stack, minter["secret"], customer)
    question = "[[fake:slow=100]] Take your time (as-11)"  # 16 tokens, 1.6 s
    thread = browser.beta.threads.create(messages=[{"role": "user", "content": question}])
    run = browser.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    wait_until(lambda: _sent(upstream, question), 30, "the run's model call")
    assert stack.call("DELETE", f"/v1/api_keys/{minter['id']}", key).status == 200
    ended = browser.beta.threads.runs.poll(run_id=run.id, thread_id=thread.id, poll_interval_ms=200)
    assert ended.status == "failed" and ended.last_error is not None
    assert ended.last_error.code == "invalid_api_key"  # type: ignore[comparison-overlap]
    assert [m.role for m in browser.beta.threads.messages.list(thread_id=thread.id).data] == ["user"]
    with pytest.raises(openai.AuthenticationError) as revoked:
        browser.beta.threads.runs.create(thread_id=thread.id, assistant_id=assistant.id)
    assert revoked.value.body["code"] == "invalid_client_token"  # type: ignore[index]
    assert len(_sent(upstream, question)) == 1
    assert stack.audit().ok
