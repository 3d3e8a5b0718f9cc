"""One model call of a run: what the model is given (the instructions, the thread's messages, what
file_search found, this run's tool calls and outputs) and its answer, made through the one metered
call as the key that made the run, attributed to the thread's customer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from ringside.core.v1 import metering_pb2
from ringside_server.errors import RingsideError
from ringside_server.metering.call import MeteredCall
from ringside_server.metering.gateway import Gateway
from ringside_server.metering.request import Caller
from ringside_server.openai import chat, file_search, run_steps
from ringside_server.openai.assistant_objects import (
    MAX_THREAD_MESSAGES,
    chat_tools,
    file_search_limit,
    file_search_stores,
    message_text,
    run_instructions,
)
from ringside_server.openai.responses import DEFAULT_SEARCH_RESULTS
from ringside_server.vector_search import search_stores
from workers.runs.core_objects import RunObjects


@dataclass(slots=True)
class Turn:
    """What a model call answered: tool calls, or the text (with the files it may cite); or why the
    run fails (a refusal of the caller, or the provider's error)."""

    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    text: str = ""
    usage: dict[str, Any] | None = None
    error: dict[str, str] | None = None


def _sampling(run: dict[str, Any], tools: list[dict[str, Any]]) -> dict[str, Any]:
    body: dict[str, Any] = {}
    for name in ("temperature", "top_p", "max_completion_tokens"):
        if run.get(name) is not None:
            body[name] = run[name]
    if tools:
        body["tools"] = tools
        body["tool_choice"] = run.get("tool_choice") or "auto"
        body["parallel_tool_calls"] = bool(run.get("parallel_tool_calls", True))
    format_ = run.get("response_format")
    if isinstance(format_, dict) and format_.get("type") in ("json_object", "json_schema"):
        body["response_format"] = format_
    return body


@dataclass(frozen=True, slots=True)
class RunContext:
    """What a turn reads: the run, its thread, its assistant and the thread's messages."""

    run: dict[str, Any]
    thread: dict[str, Any]
    assistant: dict[str, Any]
    messages: list[dict[str, Any]]


async def searched(
    gateway: Gateway, objects: RunObjects, caller: Caller, context: RunContext
) -> dict[str, Any] | metering_pb2.Denial | None:
    """file_search, once a run: the last user message searched in the thread's and the assistant's
    stores (the query's embedding metered to the thread's customer). None without the tool."""
    run, messages = context.run, context.messages
    stores = file_search_stores(run, context.thread, context.assistant)
    if not stores:
        return None
    users = [message_text(m) for m in messages if m.get("role") == "user"]
    query = (users[-1] if users else "").strip()[:4096]
    if not query:
        return {"context": "", "citations": [], "results": []}
    found = await search_stores(
        gateway, caller, objects.key, stores, query, file_search_limit(run, DEFAULT_SEARCH_RESULTS)
    )
    if isinstance(found, metering_pb2.Denial):
        return found
    cited = {hit.file_id: hit.filename for hit in found.hits}
    return {
        "context": file_search.context_of(found.hits),
        "citations": [[k, v] for k, v in cited.items()],
        "results": run_steps.search_results([(h.file_id, h.filename, h.score, h.text) for h in found.hits]),
    }


def chat_body(run: dict[str, Any], private: dict[str, Any], messages: list[dict[str, Any]]) -> dict[str, Any]:
    """The chat request of this turn: the excerpts found go just before the last user message."""
    said = [{"role": m["role"], "content": message_text(m)} for m in messages[-MAX_THREAD_MESSAGES:]]
    context = (private.get("search") or {}).get("context")
    if context:
        last_user = max((i for i, m in enumerate(said) if m["role"] == "user"), default=len(said))
        said.insert(last_user, {"role": "system", "content": context})
    instructions = run_instructions(run, private.get("additional_instructions", ""))
    system = [{"role": "system", "content": instructions}] if instructions else []
    history = private.get("history", [])
    return {"model": run["model"], "messages": [*system, *said, *history], **_sampling(run, chat_tools(run["tools"]))}


async def call_model(gateway: Gateway, caller: Caller, models: list[str], body: dict[str, Any]) -> Turn:
    """The turn's metered chat call (non-streamed: the run's stream is the edge's)."""
    try:
        call = MeteredCall.of_models(gateway, caller, chat.metered(body), [gateway.resolve(ref) for ref in models])
        answer = await call.run()
    except RingsideError as error:  # the provider failed (settled as such): the run fails, not retried
        return Turn(error={"code": error.code, "message": error.message})
    if isinstance(answer, metering_pb2.Denial):
        return Turn(error={"code": answer.code, "message": answer.message})
    if answer.status != 200 or answer.relay is not None:
        failure = orjson.loads(answer.body or b"{}").get("error") or {}
        return Turn(error={"code": "server_error", "message": str(failure.get("message", "The model call failed."))})
    completion = orjson.loads(answer.body)
    message = completion["choices"][0]["message"]
    calls = [
        {
            "id": c["id"],
            "type": "function",
            "function": {"name": c["function"]["name"], "arguments": c["function"]["arguments"]},
        }
        for c in message.get("tool_calls") or []
    ]
    return Turn(tool_calls=calls, text=message.get("content") or "", usage=completion.get("usage"))
