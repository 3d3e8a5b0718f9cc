"""Streamed Assistants runs, driven by the real OpenAI SDK's beta helpers (runs execute as Temporal
workflows in the worker): the events follow OpenAI's order and schemas, and a streamed function call
shows its step until its outputs are submitted."""

from __future__ import annotations

from tests.e2e.assistants_stack import MODEL, WEATHER, Events, Running, new_customer, sdk_for

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
    sdk = sdk_for(stack, key, new_customer(stack, key, "as_stream"))
    assistant = sdk.beta.assistants.create(model=MODEL, instructions="Be brief.")
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Say hello (as-3)"}])
    handler = Events()
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
    sdk = sdk_for(stack, key, new_customer(stack, key, "as_stream_tools"))
    assistant = sdk.beta.assistants.create(model=MODEL, tools=[WEATHER])
    thread = sdk.beta.threads.create(messages=[{"role": "user", "content": "Weather in Bern? (as-10)"}])
    asking = Events()
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
    answering = Events()
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
