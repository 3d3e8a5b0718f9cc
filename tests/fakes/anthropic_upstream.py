"""A local fake of Anthropic's Messages API (`POST /v1/messages`), speaking its exact wire format:
`Authorization: Bearer` and `anthropic-version` checked as the `anthropic` 2.14 SDK sends them,
named SSE events (message_start, content_block_*, ping, message_delta, message_stop, error), error
bodies `{"type": "error", "error": {...}, "request_id"}`.

Deterministic answers: 8 lorem words ("text"), or one `get_weather` tool call when the last user
turn says ``[[fake:tool]]``, after a signed thinking block when it says ``[[fake:thinking]]``.
Other markers: ``[[anthropic:status=NNN]]`` (529 = overloaded_error; 429 and 529 say `retry-after:
1`, as Anthropic does), ``[[fake:cache]]`` (usage with cache reads 100 and writes 50),
``[[anthropic:stall]]``, ``[[fake:stream_error]]`` (an `error` event after the first text delta).
Failure markers are the fake's own, so a fake OpenAI given the same message in a fallback test
answers normally, and the other way round.

Run: ``python -m tests.fakes.anthropic_upstream --port 8901 --api-key KEY``.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import native
from tests.fakes.openai_wire import LOREM_WORDS

VERSION = "2026-10-21"
WORDS = 8
TOOL_INPUT = '{"city": "Paris", "unit": "c"}'
THINKING = "The user wants the weather. I should call the tool."
SIGNATURE = "EqQBCkYIBRgCKkD-fake-signature"
TOOL_PIECES = ['{"city": ', '"Paris", "u', 'nit": "c"}']
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "not_found_error", 413: "request_too_large", 429: "rate_limit_error", 500: "api_error",
               529: "overloaded_error"}  # fmt: skip


def error(status: int, message: str) -> web.Response:
    body = {"type": "error", "error": {"type": ERROR_TYPES.get(status, "api_error"), "message": message}}
    body["request_id"] = "req_fake"
    headers = {"retry-after": "1"} if status in (429, 529) else {}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json", headers=headers)


def _last_user_text(messages: list[Any]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            return "".join(b.get("text", "") for b in content if isinstance(b, dict) and b.get("type") == "text")
    return ""


def _validate(body: Any) -> str | None:
    if not isinstance(body, dict):
        return "body: Input should be an object"
    if not isinstance(body.get("model"), str):
        return "model: Field required"
    if not isinstance(body.get("max_tokens"), int):
        return "max_tokens: Field required"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "messages: Field required"
    for index, message in enumerate(messages):
        if message.get("role") not in ("user", "assistant"):
            return f"messages.{index}.role: Input should be 'user' or 'assistant'"
    if "n" in body or "stream_options" in body or "max_completion_tokens" in body:
        return "Extra inputs are not permitted"
    return None


def _usage(text: str, body: dict[str, Any], output_tokens: int) -> dict[str, Any]:
    prompt = len(orjson.dumps(body["messages"])) // 4 + len(orjson.dumps(body.get("system", ""))) // 4
    cache = "[[fake:cache]]" in text
    return {
        "input_tokens": prompt,
        "cache_creation_input_tokens": 50 if cache else 0,
        "cache_read_input_tokens": 100 if cache else 0,
        "output_tokens": output_tokens,
    }


def _message(body: dict[str, Any], text: str) -> dict[str, Any]:
    words = [(" " if i else "") + LOREM_WORDS[i % len(LOREM_WORDS)] for i in range(min(WORDS, body["max_tokens"]))]
    if "[[fake:tool]]" in text:
        content = [
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_fake01", "name": "get_weather", "input": orjson.loads(TOOL_INPUT)},
        ]
        stop, output = "tool_use", 12
    else:
        content = [{"type": "text", "text": "".join(words)}]
        stop, output = ("max_tokens" if len(words) < WORDS else "end_turn"), len(words)
    if "[[fake:thinking]]" in text:  # extended thinking: a signed thinking block first
        content.insert(0, {"type": "thinking", "thinking": THINKING, "signature": SIGNATURE})
    return {
        "id": "msg_fake01",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": _usage(text, body, output),
    }


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _events(message: dict[str, Any], text: str) -> list[bytes]:
    usage = message["usage"]
    start = {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}
    out = [_event("message_start", {"type": "message_start", "message": start}), _event("ping", {"type": "ping"})]
    for index, block in enumerate(message["content"]):
        if block["type"] == "text":
            out.append(_event("content_block_start", {"type": "content_block_start", "index": index,
                                                      "content_block": {"type": "text", "text": ""}}))  # fmt: skip
            for position, word in enumerate(block["text"].split(" ")):
                piece = (" " if position else "") + word
                delta = {"type": "text_delta", "text": piece}
                out.append(
                    _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                )
                if "[[fake:stream_error]]" in text:
                    error = {"type": "overloaded_error", "message": "Overloaded"}
                    return [*out, _event("error", {"type": "error", "error": error})]
        elif block["type"] == "thinking":
            start = {"type": "thinking", "thinking": "", "signature": ""}
            out.append(
                _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": start})
            )
            for delta in (
                {"type": "thinking_delta", "thinking": block["thinking"][:20]},
                {"type": "thinking_delta", "thinking": block["thinking"][20:]},
                {"type": "signature_delta", "signature": block["signature"]},
            ):
                out.append(
                    _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                )
        else:
            tool = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            out.append(
                _event("content_block_start", {"type": "content_block_start", "index": index, "content_block": tool})
            )
            for piece in TOOL_PIECES:
                delta = {"type": "input_json_delta", "partial_json": piece}
                out.append(
                    _event("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})
                )
        out.append(_event("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": message["stop_reason"], "stop_sequence": None}
    cumulative = {**usage}  # the final message_delta's usage is cumulative
    out.append(_event("message_delta", {"type": "message_delta", "delta": delta, "usage": cumulative}))
    out.append(_event("message_stop", {"type": "message_stop"}))
    return out


async def messages(request: web.Request) -> web.StreamResponse:
    record = native.record(request)
    if request.headers.get("Authorization") != f"Bearer {request.app[native.KEY]}":
        return error(401, "invalid x-api-key")
    if request.headers.get("anthropic-version") != VERSION:
        return error(400, f"anthropic-version: expected {VERSION}")
    try:
        body = record["body"] = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return error(400, "There was an issue with the JSON body of your request.")
    problem = _validate(body)
    if problem:
        return error(400, problem)
    text = _last_user_text(body["messages"])
    if "[[anthropic:stall]]" in text:
        await asyncio.sleep(3600)
    if "[[anthropic:status=" in text:
        status = int(text.split("[[anthropic:status=", 1)[1][:3])
        return error(status, "Overloaded" if status == 529 else f"Injected failure ({status}).")
    message = _message(body, text)
    if not body.get("stream"):
        return web.Response(body=orjson.dumps(message), content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
    await response.prepare(request)
    for frame in _events(message, text):
        await response.write(frame)
    await response.write_eof()
    return response


COUNT_FIELDS = {"model", "messages", "system", "tools", "tool_choice", "thinking", "mcp_servers"}


async def count_tokens(request: web.Request) -> web.Response:
    """`POST /v1/messages/count_tokens`: Anthropic refuses fields it does not count; the count is
    the prompt's JSON bytes over 4 (as the fake's usage counts them)."""
    record = native.record(request)
    if request.headers.get("Authorization") != f"Bearer {request.app[native.KEY]}":
        return error(401, "invalid x-api-key")
    body = record["body"] = orjson.loads(await request.read())
    extra = sorted(set(body) - COUNT_FIELDS)
    if extra or not isinstance(body.get("messages"), list):
        return error(400, f"{extra[0] if extra else 'messages'}: Extra inputs are not permitted")
    tokens = len(orjson.dumps(body["messages"])) // 4 + len(orjson.dumps(body.get("system", ""))) // 4
    return web.Response(body=orjson.dumps({"input_tokens": tokens}), content_type="application/json")


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/v1/messages", messages)
    router.add_post("/v1/messages/count_tokens", count_tokens)


def create_app(api_key: str) -> web.Application:
    return native.create_app(api_key, add_routes)


if __name__ == "__main__":
    native.main("anthropic_upstream", 8901, "anthropic-secret", add_routes)
