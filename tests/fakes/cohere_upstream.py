"""A local fake of Cohere's v2 chat (`POST /v2/chat`) speaking its exact wire format, as the
cohere 7.3 SDK uses it: `Authorization: Bearer`, v2 messages and tools, the answer's `message.content`
blocks and `usage.billed_units`, stream events as `data:` lines of typed JSON (message-start,
content-start/-delta/-end, tool-plan-delta, tool-call-start/-delta/-end, message-end), errors as
`{"id", "message"}`.

Deterministic answers: 8 lorem words; ``[[fake:tool]]`` answers with one `get_weather` call;
``[[cohere:status=NNN]]`` fails with that status (429, 498 invalid token, 503 …).

Run: ``python -m tests.fakes.cohere_upstream --port 8903 --api-key KEY``.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.fakes import native
from tests.fakes.openai_wire import LOREM_WORDS

WORDS = 8
OPENAI_ONLY = {"top_p", "stop", "n", "stream_options", "max_completion_tokens"}
TOOL_PIECES = ['{"city": ', '"Paris", ', '"unit": "c"}']


def error(status: int, message: str) -> web.Response:
    return web.Response(
        status=status, body=orjson.dumps({"id": "err_fake", "message": message}), content_type="application/json"
    )


def _problem(body: Any) -> str | None:
    if (
        not isinstance(body, dict)
        or not isinstance(body.get("model"), str)
        or not isinstance(body.get("messages"), list)
    ):
        return "invalid request: model and messages are required"
    openai_only = set(body) & OPENAI_ONLY
    if openai_only:
        return f"invalid request: unknown field {sorted(openai_only)[0]}"
    for message in body["messages"]:
        if message.get("role") not in ("system", "user", "assistant", "tool"):
            return "invalid request: role must be one of system, user, assistant, tool"
    return None


def _plan(body: dict[str, Any]) -> tuple[list[str], bool, str, dict[str, Any]]:
    """(text pieces, tool call?, finish reason, usage)."""
    text = str(body["messages"][-1].get("content", ""))
    prompt = len(orjson.dumps(body["messages"])) // 4
    if "[[fake:tool]]" in text:
        return ["I will check the weather."], True, "TOOL_CALL", {"input_tokens": prompt, "output_tokens": 9}
    limit = body.get("max_tokens") or WORDS
    words = [(" " if i else "") + LOREM_WORDS[i % len(LOREM_WORDS)] for i in range(min(WORDS, limit))]
    finish = "MAX_TOKENS" if len(words) < WORDS else "COMPLETE"
    return words, False, finish, {"input_tokens": prompt, "output_tokens": len(words)}


def _event(data: dict[str, Any]) -> bytes:
    return b"event: " + data["type"].encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


def _events(pieces: list[str], tool: bool, finish: str, billed: dict[str, Any]) -> list[bytes]:
    out = [_event({"type": "message-start", "id": "fake01", "delta": {"message": {"role": "assistant"}}})]
    if tool:
        out.append(_event({"type": "tool-plan-delta", "delta": {"message": {"tool_plan": pieces[0]}}}))
        call = {"id": "get_weather_fake01", "type": "function", "function": {"name": "get_weather", "arguments": ""}}
        out.append(_event({"type": "tool-call-start", "index": 0, "delta": {"message": {"tool_calls": call}}}))
        for piece in TOOL_PIECES:
            delta = {"message": {"tool_calls": {"function": {"arguments": piece}}}}
            out.append(_event({"type": "tool-call-delta", "index": 0, "delta": delta}))
        out.append(_event({"type": "tool-call-end", "index": 0}))
    else:
        start = {"message": {"content": {"type": "text", "text": ""}}}
        out.append(_event({"type": "content-start", "index": 0, "delta": start}))
        for piece in pieces:
            out.append(
                _event({"type": "content-delta", "index": 0, "delta": {"message": {"content": {"text": piece}}}})
            )
        out.append(_event({"type": "content-end", "index": 0}))
    usage = {"billed_units": billed, "tokens": {k: v + 3 for k, v in billed.items()}}
    out.append(_event({"type": "message-end", "id": "fake01", "delta": {"finish_reason": finish, "usage": usage}}))
    return out


async def chat(request: web.Request) -> web.StreamResponse:
    record = native.record(request)
    if request.headers.get("Authorization") != f"Bearer {request.app[native.KEY]}":
        return error(498, "invalid api token")
    try:
        body = record["body"] = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return error(400, "invalid request: could not parse JSON")
    problem = _problem(body)
    if problem:
        return error(400, problem)
    text = str(body["messages"][-1].get("content", ""))
    if "[[cohere:status=" in text:
        status = int(text.split("[[cohere:status=", 1)[1][:3])
        return error(status, f"Injected failure ({status}).")
    pieces, tool, finish, billed = _plan(body)
    if not body.get("stream"):
        message: dict[str, Any] = {"role": "assistant"}
        if tool:
            arguments = "".join(TOOL_PIECES)
            message["tool_plan"] = pieces[0]
            message["tool_calls"] = [
                {
                    "id": "get_weather_fake01",
                    "type": "function",
                    "function": {"name": "get_weather", "arguments": arguments},
                }
            ]
        else:
            message["content"] = [{"type": "text", "text": "".join(pieces)}]
        usage = {"billed_units": billed, "tokens": {k: v + 3 for k, v in billed.items()}}
        answer = {"id": "fake01", "finish_reason": finish, "message": message, "usage": usage}
        return web.Response(body=orjson.dumps(answer), content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for frame in _events(pieces, tool, finish, billed):
        await response.write(frame)
    await response.write_eof()
    return response


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/v2/chat", chat)


def create_app(api_key: str) -> web.Application:
    return native.create_app(api_key, add_routes)


if __name__ == "__main__":
    native.main("cohere_upstream", 8903, "cohere-secret", add_routes)
