"""/v1/threads/{thread_id}/runs: an assistant's run on a thread, executed by a worker as a Temporal
workflow (workers/runs), metered per model call to the thread's customer. The edge checks and
records the run (`queued`: the worker's starter picks it up), answers or follows it (run_stream),
cancels it and hands it tool outputs; the worker moves it along."""

from __future__ import annotations

import time
from typing import Any

import orjson
from aiohttp import web

from edge_http.assistants import objects, run_stream, wire
from edge_http.context import EDGE
from edge_http.handlers.assistants import new_thread
from edge_http.handlers.common import authorization
from edge_http.handlers.metered import caller_of
from edge_http.openai.cursor_list import cursor_page
from edge_http.openai.jsonio import dumps, parse_model_body
from ringside.core.v1 import assistants_pb2 as pb
from ringside.core.v1 import vector_stores_pb2
from ringside_server.errors import RingsideError
from ringside_server.ids import new_sortable_id
from ringside_server.metering.call import MeteredCall
from ringside_server.openai import chat, run_steps
from ringside_server.openai.assistant_objects import RUN_TTL_S, file_search_stores, message_object

POLL_AFTER_MS = "200"  # the SDK's *_and_poll helpers wait this long between reads (openai-poll-after-ms)
CANCELLABLE = ("in_progress", "requires_action")


def _answer(found: pb.AssistantObject) -> web.Response:
    response = objects.respond(objects.body_of(found))
    response.headers["openai-poll-after-ms"] = POLL_AFTER_MS
    return response


async def _models(request: web.Request, ref: str) -> list[str]:
    """The run's model ref resolved now, as the caller may call it (slots, allowed_models): the worker
    calls these later, as the key that made the run, without resolving again."""
    edge = request.app[EDGE]
    caller = caller_of(edge, request)
    policy = await edge.policy(caller.api_key, caller.client_token, caller.customer_ref)
    models = await edge.resolve_model(ref, caller.api_key, policy)
    MeteredCall.of_models(edge, caller, chat.metered({"model": ref, "messages": []}), models)  # 400/503 now
    return [model.ref for model in models]


async def _check_stores(request: web.Request, stores: list[str]) -> None:
    """Each store file_search will search is the caller's (404 now, not a failed run later)."""
    edge = request.app[EDGE]
    for store_id in stores:
        await edge.core.as_caller(
            edge.core.vector_stores.GetVectorStore,
            vector_stores_pb2.GetVectorStoreRequest(id=store_id[:100], customer_ref=objects.customer_ref(request)),
            authorization(request),
        )


async def create_run(request: web.Request) -> web.StreamResponse:
    body = parse_model_body(await request.read())
    return await _start(request, body, request.match_info["thread_id"][:64])


async def create_thread_and_run(request: web.Request) -> web.StreamResponse:
    """`POST /v1/threads/runs`: a new thread (`thread`: its messages, metadata and tool_resources;
    the request's own `tool_resources` go to it when it names none) and a run on it, in one call."""
    body = parse_model_body(await request.read())
    given = body.pop("thread", None)
    thread_body = dict(given) if isinstance(given, dict) else {}
    if given is not None and not isinstance(given, dict):
        raise RingsideError("invalid_request", "thread must be an object.", "thread")
    resources = body.pop("tool_resources", None)
    if resources is not None and "tool_resources" not in thread_body:
        thread_body["tool_resources"] = resources
    # every refusal the run could meet comes before the thread exists (no thread left behind)
    fields = wire.run_fields(body)
    _, thread_resources, _ = wire.thread_fields(thread_body)
    assistant = objects.body_of(await objects.get(request, fields["assistant_id"], "assistant"))
    await _models(request, fields["model"] or assistant["model"])
    tools = fields["tools"] if fields["tools"] is not None else assistant["tools"]
    stores = file_search_stores({"tools": tools}, {"tool_resources": thread_resources}, assistant)
    await _check_stores(request, stores or [])
    thread = await new_thread(request, thread_body)
    return await _start(request, body, thread["id"])


async def _start(request: web.Request, body: dict[str, Any], thread_id: str) -> web.StreamResponse:
    fields = wire.run_fields(body)
    thread = objects.body_of(await objects.get(request, thread_id, "thread"))
    assistant = objects.body_of(await objects.get(request, fields["assistant_id"], "assistant"))
    model = fields["model"] or assistant["model"]
    models = await _models(request, model)
    now = int(time.time())
    run: dict[str, Any] = {
        "id": new_sortable_id("run"),
        "object": "thread.run",
        "created_at": now,
        "thread_id": thread["id"],
        "assistant_id": assistant["id"],
        "status": "queued",
        "required_action": None,
        "last_error": None,
        "expires_at": now + RUN_TTL_S,
        "started_at": None,
        "cancelled_at": None,
        "failed_at": None,
        "completed_at": None,
        "incomplete_details": None,
        "model": model,
        "instructions": fields["instructions"] if fields["instructions"] is not None else assistant["instructions"],
        "tools": fields["tools"] if fields["tools"] is not None else assistant["tools"],
        "metadata": fields["metadata"],
        "usage": None,
        "temperature": fields["temperature"] if fields["temperature"] is not None else assistant.get("temperature"),
        "top_p": fields["top_p"] if fields["top_p"] is not None else assistant.get("top_p"),
        "max_prompt_tokens": fields["max_prompt_tokens"],
        "max_completion_tokens": fields["max_completion_tokens"],
        "truncation_strategy": fields["truncation_strategy"],
        "response_format": fields["response_format"],
        "tool_choice": fields["tool_choice"],
        "parallel_tool_calls": fields["parallel_tool_calls"],
    }
    stores = file_search_stores(run, thread, assistant)
    await _check_stores(request, stores or [])
    for role, text, metadata in fields["additional_messages"]:
        message = message_object(new_sortable_id("msg"), thread["id"], now, role, text, metadata=metadata)
        await objects.create(request, "message", message, parent_id=thread["id"])
    private = {"models": models, "additional_instructions": fields["additional_instructions"] or "", "history": []}
    made = await objects.create(request, "run", run, thread["id"], "queued", dumps(private).decode())
    if body.get("stream"):
        return await run_stream.follow(request, made, announce_created=True)
    return _answer(made)


async def get_run(request: web.Request) -> web.Response:
    return _answer(await objects.get(request, request.match_info["id"], "run", request.match_info["thread_id"]))


async def list_runs(request: web.Request) -> web.Response:
    return await objects.page(request, "run", request.match_info["thread_id"])


async def cancel_run(request: web.Request) -> web.Response:
    """A queued run is cancelled at once; one running goes `cancelling` until its worker stops it
    (between model calls: a call under way finishes, and is billed)."""
    found = await objects.get(request, request.match_info["id"], "run", request.match_info["thread_id"])
    for status, only_from, stamp in (("cancelled", ("queued",), "cancelled_at"), ("cancelling", CANCELLABLE, "")):
        run = objects.body_of(found)
        if found.status not in only_from:
            continue
        run["status"] = status
        if stamp:
            run[stamp] = int(time.time())
        found = await objects.update(request, found, run, status, only_from=only_from)
        if found.status == status:
            return _answer(found)
    raise RingsideError("invalid_request", f"Cannot cancel run with status '{found.status}'.", "run_id")


async def submit_tool_outputs(request: web.Request) -> web.StreamResponse:
    body = parse_model_body(await request.read())
    found = await objects.get(request, request.match_info["id"], "run", request.match_info["thread_id"])
    run = objects.body_of(found)
    if found.status != "requires_action":
        raise RingsideError("invalid_request", f'Runs in status "{found.status}" do not accept tool outputs.', "run_id")
    asked = [call["id"] for call in run["required_action"]["submit_tool_outputs"]["tool_calls"]]
    outputs = wire.tool_outputs_of(body, asked)
    private = orjson.loads(found.private_json or "{}")
    waiting = {step["id"] for step in private.get(run_steps.STEPS_KEY, []) if step["status"] != "completed"}
    private["history"] = [
        *private.get("history", []),
        *({"role": "tool", "tool_call_id": o["tool_call_id"], "content": o["output"]} for o in outputs),
    ]
    run_steps.outputs_given(private, outputs, int(time.time()))
    run["status"], run["required_action"] = "queued", None
    updated = await objects.update(
        request, found, run, "queued", dumps(private).decode(), only_from=("requires_action",)
    )
    if updated.status != "queued":  # cancelled, or expired, meanwhile
        raise RingsideError(
            "invalid_request", f'Runs in status "{updated.status}" do not accept tool outputs.', "run_id"
        )
    if body.get("stream"):
        done_now = {step["id"] for step in private.get(run_steps.STEPS_KEY, []) if step["status"] == "completed"}
        return await run_stream.follow(
            request, updated, announce_created=False, completed_now=frozenset(waiting & done_now)
        )
    return _answer(updated)


async def list_run_steps(request: web.Request) -> web.Response:
    """A run's steps, OpenAI's cursor list (`order` desc by default, `after`/`before`, `limit` ≤ 100)."""
    steps = await _steps(request)
    return web.Response(body=dumps(cursor_page(request, steps)), content_type="application/json")


async def get_run_step(request: web.Request) -> web.Response:
    for step in await _steps(request):
        if step["id"] == request.match_info["step_id"]:
            return objects.respond(step)
    raise RingsideError("not_found", f"No run step found with id '{request.match_info['step_id'][:64]}'.", "step_id")


async def _steps(request: web.Request) -> list[dict[str, Any]]:
    found = await objects.get(request, request.match_info["run_id"], "run", request.match_info["thread_id"])
    private = orjson.loads(found.private_json or "{}")
    included = request.query.getall("include[]", []) + request.query.getall("include", [])
    with_content = run_steps.INCLUDE_CONTENT in included
    return [run_steps.shown(step, with_content) for step in private.get(run_steps.STEPS_KEY, [])]
