"""The fake's `POST /v1/responses`: OpenAI's Responses API (openai/openai-openapi's `CreateResponse`,
`Response` and `ResponseStreamEvent`), answered like the fake's chat: the same lorem-ipsum tokens,
tool calls and fault markers (openai_request.py), read from the Responses input.

Like OpenAI, it keeps a response only when `store` is not false — and this fake keeps none, so a
`previous_response_id` is always 400 `previous_response_not_found` (Ringside must send the
conversation itself). Usage: `cached_tokens` is half the prompt when the input holds earlier turns
(three items or more); a request with `reasoning.effort` gets a reasoning item and 4 reasoning
tokens. Streams send OpenAI's semantic events (`event:` + `data:`, a `sequence_number` each, no
`[DONE]`)."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import openai_wire as wire
from tests.fakes.openai_request import BadRequest, ChatRequest, Faults, parse_chat_request

REASONING_TOKENS = 4
MIDSTREAM_ERROR_AFTER_TOKENS = 3


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(str(p.get("text") or "") for p in content if isinstance(p, dict))
    return ""


def chat_of(body: Any) -> dict[str, Any]:
    """The Responses request as the chat request the fake's model reads (tools, limits, messages)."""
    if not isinstance(body, dict):
        raise BadRequest("The request body must be a JSON object.")
    if body.get("previous_response_id") is not None:
        given = str(body["previous_response_id"])[:64]
        raise BadRequest(
            f"Previous response with id '{given}' not found.", "previous_response_id", "previous_response_not_found"
        )
    given_input = body.get("input")
    items = [{"role": "user", "content": given_input}] if isinstance(given_input, str) else given_input
    if not isinstance(items, list) or not items:
        raise BadRequest("Missing required parameter: 'input'.", "input", "missing_required_parameter")
    messages: list[dict[str, Any]] = []
    if isinstance(body.get("instructions"), str):
        messages.append({"role": "system", "content": body["instructions"]})
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise BadRequest(f"Invalid 'input[{index}]': expected an object.", f"input[{index}]")
        kind = item.get("type", "message")
        if kind == "message":
            messages.append({"role": item.get("role"), "content": _text(item.get("content"))})
        elif kind == "function_call":
            messages.append({"role": "assistant", "content": None})
        elif kind == "function_call_output":
            messages.append({"role": "tool", "content": _text(item.get("output"))})
        else:
            raise BadRequest(f"Invalid 'input[{index}].type': '{str(kind)[:40]}'.", f"input[{index}].type")
    tools = [
        {"type": "function", "function": {k: v for k, v in tool.items() if k != "type"}}
        for tool in body.get("tools") or ()
        if isinstance(tool, dict) and tool.get("type") == "function"
    ]
    chat: dict[str, Any] = {"model": body.get("model"), "messages": messages, "stream": body.get("stream") is True}
    if tools:
        chat["tools"] = tools
        choice = body.get("tool_choice", "auto")
        chat["tool_choice"] = {"function": {"name": choice.get("name")}} if isinstance(choice, dict) else choice
    if body.get("max_output_tokens") is not None:
        chat["max_completion_tokens"] = body["max_output_tokens"]
    return chat


class Answer:
    """One Response: its skeleton from the request, its output items, usage, and its events."""

    def __init__(self, body: dict[str, Any], chat: ChatRequest, tokens: list[str], incomplete: bool) -> None:
        digest = hashlib.sha256(orjson.dumps([chat.model, chat.messages])).hexdigest()
        self.body, self.chat, self.tokens = body, chat, tokens
        self.key = digest[:24]
        self.sequence = 0
        self.incomplete = incomplete
        self.reasoning = isinstance(body.get("reasoning"), dict) and bool(body["reasoning"].get("effort"))
        tools = [{"strict": True, **tool} for tool in body.get("tools") or ()]
        self.response: dict[str, Any] = {
            "id": "resp_" + self.key,
            "object": "response",
            "created_at": 1_700_000_000 + int(digest[24:32], 16) % 100_000_000,
            "status": "in_progress",
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "model": chat.model,
            "output": [],
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": None,
            "reasoning": {"effort": (body.get("reasoning") or {}).get("effort"), "summary": None},
            "store": body.get("store", True) is not False,
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": tools,
            "top_p": body.get("top_p", 1.0),
            "truncation": "disabled",  # no `usage` until it is complete (the schema has no null there)
            "metadata": body.get("metadata") or {},
        }

    def usage(self) -> dict[str, Any]:
        prompt = wire.count_prompt_tokens(self.chat.messages)
        cached = prompt // 2 if len(self.chat.messages) >= 3 else 0
        output = len(self.tokens) + (REASONING_TOKENS if self.reasoning else 0)
        return {
            "input_tokens": prompt,
            "input_tokens_details": {"cached_tokens": cached, "cache_write_tokens": 0},
            "output_tokens": output,
            "output_tokens_details": {"reasoning_tokens": REASONING_TOKENS if self.reasoning else 0},
            "total_tokens": prompt + output,
        }

    def items(self) -> list[dict[str, Any]]:
        """The output items, completed."""
        found: list[dict[str, Any]] = []
        if self.reasoning:
            found.append({"id": "rs_" + self.key, "type": "reasoning", "summary": []})
        text = "".join(self.tokens)
        if self.chat.tool_call is not None:
            name, arguments = self.chat.tool_call
            found.append(
                {
                    "id": "fc_" + self.key,
                    "type": "function_call",
                    "status": "completed",
                    "call_id": "call_" + self.key[:12],
                    "name": name,
                    "arguments": arguments,
                }
            )
        else:
            part = {"type": "output_text", "text": text, "annotations": [], "logprobs": []}
            status = "incomplete" if self.incomplete else "completed"
            found.append({"id": "msg_" + self.key, "type": "message", "status": status, "role": "assistant"})
            found[-1]["content"] = [part]
        return found

    def finished(self) -> dict[str, Any]:
        self.response.update(output=self.items(), usage=self.usage(), status="completed")
        if self.incomplete:
            self.response.update(status="incomplete", incomplete_details={"reason": "max_output_tokens"})
        return self.response

    def event(self, kind: str, **fields: Any) -> bytes:
        payload = {"type": kind, "sequence_number": self.sequence, **fields}
        self.sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"

    def events(self) -> list[Callable[[], bytes] | str]:
        """The stream, in OpenAI's order: callables give events; a string is a token's delta (a
        point where the stream may be cut or slowed)."""
        plan: list[Callable[[], bytes] | str] = [
            lambda: self.event("response.created", response=dict(self.response)),
            lambda: self.event("response.in_progress", response=dict(self.response)),
        ]
        for index, item in enumerate(self.items()):
            plan += self._item_events(index, item)
        final = "response.incomplete" if self.incomplete else "response.completed"
        plan.append(lambda: self.event(final, response=self.finished()))
        return plan

    def _item_events(self, index: int, item: dict[str, Any]) -> list[Callable[[], bytes] | str]:
        def added() -> bytes:
            if item["type"] == "message":
                opened = {**item, "status": "in_progress", "content": []}
            else:
                opened = {**item, "status": "in_progress", **({"arguments": ""} if "arguments" in item else {})}
            return self.event("response.output_item.added", output_index=index, item=opened)

        done = [lambda: self.event("response.output_item.done", output_index=index, item=item)]
        if item["type"] == "reasoning":
            return [added, *done]
        where = {"item_id": item["id"], "output_index": index}
        if item["type"] == "function_call":
            pieces = [item["arguments"][i : i + 4] for i in range(0, len(item["arguments"]), 4)]
            args_done = lambda: self.event(  # noqa: E731
                "response.function_call_arguments.done", **where, name=item["name"], arguments=item["arguments"]
            )
            return [added, *pieces, args_done, *done]
        part = item["content"][0]
        at = {**where, "content_index": 0}
        return [
            added,
            lambda: self.event("response.content_part.added", **at, part={**part, "text": ""}),
            *self.tokens,
            lambda: self.event("response.output_text.done", **at, text=part["text"], logprobs=[]),
            lambda: self.event("response.content_part.done", **at, part=part),
            *done,
        ]

    def delta(self, token: str) -> bytes:
        """A token's event: text, or a piece of the function's arguments."""
        item = self.items()[-1]
        where = {"item_id": item["id"], "output_index": len(self.items()) - 1}
        if item["type"] == "function_call":
            return self.event("response.function_call_arguments.delta", **where, delta=token)
        return self.event("response.output_text.delta", **where, content_index=0, delta=token, logprobs=[])


def parse(body: Any) -> ChatRequest:
    """A Responses request, checked as OpenAI checks it, as the chat request the fake's model reads."""
    return parse_chat_request(chat_of(body))


async def answer(
    request: web.Request, body: dict[str, Any], chat: ChatRequest, tokens: list[str], incomplete: bool, faults: Faults
) -> web.StreamResponse:
    """The complete Response, or its stream (cut after 3 tokens on `[[fake:midstream_error]]`)."""
    planned = Answer(body, chat, tokens, incomplete)
    if not chat.stream:
        if faults.midstream_error and request.transport is not None:
            request.transport.abort()
            return web.Response(status=499)
        return web.Response(body=orjson.dumps(planned.finished()), content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
    await response.prepare(request)
    sent = 0
    for step in planned.events():
        if isinstance(step, str):
            if faults.midstream_error and sent == MIDSTREAM_ERROR_AFTER_TOKENS and request.transport is not None:
                request.transport.abort()
                return response
            if faults.slow_ms:
                await asyncio.sleep(faults.slow_ms / 1000)
            sent += 1
            await response.write(planned.delta(step))
        else:
            await response.write(step())
    await response.write_eof()
    return response
