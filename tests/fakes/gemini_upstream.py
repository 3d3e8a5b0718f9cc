"""A local fake of Google's Gemini API speaking its exact wire format, as the google-genai 3.6 SDK
uses it: `POST /{version}/models/{model}:generateContent` and `:streamGenerateContent?alt=sse`
(`data:` frames ending in CRLF CRLF, each a whole GenerateContentResponse, no end marker), the key
in `x-goog-api-key`, errors as `{"error": {"code", "message", "status"}}`.

Deterministic answers: 8 lorem words, one per stream chunk; ``[[fake:tool]]`` answers with one
`get_weather` functionCall; ``[[fake:cache]]`` reports 100 cached prompt tokens (inside
promptTokenCount); ``[[fake:think]]`` adds a thought part and 5 thoughtsTokenCount;
``[[gemini:status=NNN]]`` fails with that status.

Run: ``python -m tests.fakes.gemini_upstream --port 8902 --api-key KEY``.
"""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from tests.fakes import native
from tests.fakes.openai_wire import LOREM_WORDS

WORDS = 8
TOOL_ARGS = {"city": "Paris", "unit": "c"}
STATUSES = {400: "INVALID_ARGUMENT", 401: "UNAUTHENTICATED", 403: "PERMISSION_DENIED", 404: "NOT_FOUND",
            429: "RESOURCE_EXHAUSTED", 500: "INTERNAL", 503: "UNAVAILABLE"}  # fmt: skip


def error(status: int, message: str) -> web.Response:
    body = {"error": {"code": status, "message": message, "status": STATUSES.get(status, "INTERNAL")}}
    return web.Response(status=status, body=orjson.dumps(body), content_type="application/json")


def _problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("contents"), list) or not body["contents"]:
        return "* GenerateContentRequest.contents: contents is not specified"
    unknown = set(body) - {"contents", "systemInstruction", "tools", "toolConfig", "generationConfig", "safetySettings"}
    if unknown:
        return f'Invalid JSON payload received. Unknown name "{sorted(unknown)[0]}": Cannot find field.'
    for content in body["contents"]:
        if content.get("role") not in ("user", "model") or not isinstance(content.get("parts"), list):
            return "Please use a valid role: user, model."
    return None


def _last_user_text(body: dict[str, Any]) -> str:
    for content in reversed(body["contents"]):
        if content["role"] == "user":
            return "".join(part.get("text", "") for part in content["parts"] if isinstance(part, dict))
    return ""


def _plan(body: dict[str, Any], model: str, text: str) -> tuple[list[list[dict[str, Any]]], str, dict[str, Any]]:
    """(parts of each chunk, finish reason, usage)."""
    limit = (body.get("generationConfig") or {}).get("maxOutputTokens") or WORDS
    prompt = len(orjson.dumps(body["contents"])) // 4 + len(orjson.dumps(body.get("systemInstruction", ""))) // 4
    chunks: list[list[dict[str, Any]]] = []
    if "[[fake:think]]" in text:
        chunks.append([{"text": "Considering the question.", "thought": True}])
    if "[[fake:tool]]" in text:
        chunks.append([{"functionCall": {"name": "get_weather", "args": TOOL_ARGS}}])
        finish, output = "STOP", 7
    else:
        words = [(" " if i else "") + LOREM_WORDS[i % len(LOREM_WORDS)] for i in range(min(WORDS, limit))]
        chunks += [[{"text": word}] for word in words]
        finish, output = ("MAX_TOKENS" if len(words) < WORDS else "STOP"), len(words)
    usage: dict[str, Any] = {"promptTokenCount": prompt, "candidatesTokenCount": output}
    if "[[fake:cache]]" in text:
        usage["promptTokenCount"] = prompt + 100
        usage["cachedContentTokenCount"] = 100
    if "[[fake:think]]" in text:
        usage["thoughtsTokenCount"] = 5
    usage["totalTokenCount"] = usage["promptTokenCount"] + output + usage.get("thoughtsTokenCount", 0)
    return chunks, finish, usage


def _response(model: str, parts: list[dict[str, Any]], finish: str | None, usage: dict[str, Any]) -> dict[str, Any]:
    candidate: dict[str, Any] = {"content": {"parts": parts, "role": "model"}, "index": 0}
    if finish:
        candidate["finishReason"] = finish
    return {"candidates": [candidate], "usageMetadata": usage, "modelVersion": model, "responseId": "fakeResp01"}


async def generate(request: web.Request) -> web.StreamResponse:
    record = native.record(request)
    model, _, method = request.match_info["target"].partition(":")
    if request.headers.get("x-goog-api-key") != request.app[native.KEY]:
        return error(400, "API key not valid. Please pass a valid API key.")
    if method not in ("generateContent", "streamGenerateContent"):
        return error(404, f"Method {method} not found.")
    try:
        body = record["body"] = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return error(400, "Invalid JSON payload received.")
    problem = _problem(body)
    if problem:
        return error(400, problem)
    text = _last_user_text(body)
    if "[[gemini:status=" in text:
        status = int(text.split("[[gemini:status=", 1)[1][:3])
        return error(status, f"Injected failure ({status}).")
    chunks, finish, usage = _plan(body, model, text)
    if method == "generateContent":
        parts = [part for chunk in chunks for part in chunk]
        merged = [p for p in parts if "text" not in p or p.get("thought")]
        text_parts = "".join(p["text"] for p in parts if "text" in p and not p.get("thought"))
        merged += [{"text": text_parts}] if text_parts else []
        return web.Response(body=orjson.dumps(_response(model, merged, finish, usage)), content_type="application/json")
    if request.query.get("alt") != "sse":
        return error(400, "streaming needs alt=sse here")
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for position, parts in enumerate(chunks):
        last = position == len(chunks) - 1
        partial = {"promptTokenCount": usage["promptTokenCount"], "totalTokenCount": usage["promptTokenCount"]}
        answer = _response(model, parts, finish if last else None, usage if last else partial)
        await response.write(b"data: " + orjson.dumps(answer) + b"\r\n\r\n")
    await response.write_eof()
    return response


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/{version}/models/{target}", generate)


def create_app(api_key: str) -> web.Application:
    return native.create_app(api_key, add_routes)


if __name__ == "__main__":
    native.main("gemini_upstream", 8902, "gemini-secret", add_routes)
