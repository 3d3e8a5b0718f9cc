"""A local fake of AWS Bedrock's Converse API speaking its exact wire format: `POST
/model/{modelId}/converse` (JSON) and `/converse-stream` (`application/vnd.amazon.eventstream`:
binary frames with `:event-type`, `:message-type` and `:content-type` headers and CRC32s), errors
as `{"message"}` with `x-amzn-ErrorType`. Auth as boto3 sends it: `Authorization: Bearer <Bedrock
API key>`, or a SigV4 `AWS4-HMAC-SHA256 Credential=<access key>/…` with `X-Amz-Date` (the
signature itself is not recomputed here).

Deterministic answers: 8 lorem words; ``[[fake:tool]]`` answers with one `get_weather` toolUse;
``[[fake:cache]]`` reports cache reads 100 and writes 50; ``[[bedrock:status=NNN]]`` fails;
``[[bedrock:stream_error]]`` sends an exception frame after the first text delta.

Run: ``python -m tests.fakes.bedrock_upstream --port 8904 --api-key KEY`` (KEY: the Bedrock API key;
the access key id accepted for SigV4 is ``AKIDFAKE``).
"""

from __future__ import annotations

import struct
import zlib
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import native
from tests.fakes.openai_wire import LOREM_WORDS

WORDS = 8
ACCESS_KEY_ID = "AKIDFAKE"
TOOL_PIECES = ['{"city": ', '"Paris", "unit": "c"}']
EXCEPTIONS = {
    400: "ValidationException",
    403: "AccessDeniedException",
    404: "ResourceNotFoundException",
    429: "ThrottlingException",
    500: "InternalServerException",
    503: "ServiceUnavailableException",
}


def frame(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message: prelude, string headers, payload, CRCs."""
    encoded = b"".join(
        bytes([len(name)]) + name.encode() + b"\x07" + struct.pack(">H", len(value)) + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    prelude += struct.pack(">I", zlib.crc32(prelude))
    message = prelude + encoded + payload
    return message + struct.pack(">I", zlib.crc32(message))


def event(kind: str, body: dict[str, Any]) -> bytes:
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return frame(headers, orjson.dumps(body))


def error(status: int, message: str) -> web.Response:
    kind = EXCEPTIONS.get(status, "InternalServerException")
    return web.Response(
        status=status,
        body=orjson.dumps({"message": message}),
        content_type="application/json",
        headers={"x-amzn-ErrorType": f"{kind}:http://internal.amazon.com/coral/com.amazon.bedrock/"},
    )


def _authorized(request: web.Request) -> bool:
    header = request.headers.get("Authorization", "")
    if header == f"Bearer {request.app[native.KEY]}":
        return True
    sigv4 = header.startswith(f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/") and "/bedrock/aws4_request" in header
    return sigv4 and "X-Amz-Date" in request.headers and "Signature=" in header


def _problem(body: Any) -> str | None:
    if not isinstance(body, dict) or not isinstance(body.get("messages"), list) or not body["messages"]:
        return "1 validation error detected: Value at 'messages' failed to satisfy constraint"
    unknown = set(body) - {"messages", "system", "inferenceConfig", "toolConfig", "additionalModelRequestFields"}
    return f"Unknown field: {sorted(unknown)[0]}" if unknown else None


def _text(body: dict[str, Any]) -> str:
    blocks = body["messages"][-1].get("content") or []
    return "".join(block.get("text", "") for block in blocks if isinstance(block, dict))


def _answer(body: dict[str, Any], text: str) -> tuple[list[dict[str, Any]], str, dict[str, Any]]:
    """(content blocks, stop reason, usage)."""
    prompt = len(orjson.dumps(body["messages"])) // 4
    limit = (body.get("inferenceConfig") or {}).get("maxTokens") or WORDS
    if "[[fake:tool]]" in text:
        use = {"toolUseId": "tooluse_fake01", "name": "get_weather", "input": orjson.loads("".join(TOOL_PIECES))}
        blocks, stop, output = [{"toolUse": use}], "tool_use", 10
    else:
        words = [(" " if i else "") + LOREM_WORDS[i % len(LOREM_WORDS)] for i in range(min(WORDS, limit))]
        blocks, stop, output = (
            [{"text": "".join(words)}],
            ("max_tokens" if len(words) < WORDS else "end_turn"),
            len(words),
        )
    cached = "[[fake:cache]]" in text
    usage = {"inputTokens": prompt, "outputTokens": output, "totalTokens": prompt + output}
    if cached:
        usage.update({"cacheReadInputTokens": 100, "cacheWriteInputTokens": 50})
        usage["totalTokens"] += 150
    return blocks, stop, usage


def _stream(blocks: list[dict[str, Any]], stop: str, usage: dict[str, Any], text: str) -> list[bytes]:
    out = [event("messageStart", {"role": "assistant"})]
    for index, block in enumerate(blocks):
        if "toolUse" in block:
            start = {"toolUse": {"toolUseId": block["toolUse"]["toolUseId"], "name": block["toolUse"]["name"]}}
            out.append(event("contentBlockStart", {"start": start, "contentBlockIndex": index}))
            for piece in TOOL_PIECES:
                out.append(
                    event("contentBlockDelta", {"delta": {"toolUse": {"input": piece}}, "contentBlockIndex": index})
                )
        else:
            for position, word in enumerate(block["text"].split(" ")):
                piece = (" " if position else "") + word
                out.append(event("contentBlockDelta", {"delta": {"text": piece}, "contentBlockIndex": index}))
                if "[[bedrock:stream_error]]" in text:
                    headers = {
                        ":exception-type": "throttlingException",
                        ":content-type": "application/json",
                        ":message-type": "exception",
                    }
                    return [*out, frame(headers, orjson.dumps({"message": "Too many requests"}))]
        out.append(event("contentBlockStop", {"contentBlockIndex": index}))
    out.append(event("messageStop", {"stopReason": stop}))
    out.append(event("metadata", {"usage": usage, "metrics": {"latencyMs": 42}}))
    return out


async def converse(request: web.Request) -> web.StreamResponse:
    record = native.record(request)
    if not _authorized(request):
        return error(403, "The security token included in the request is invalid.")
    try:
        body = record["body"] = orjson.loads(await request.read())
    except orjson.JSONDecodeError:
        return error(400, "Malformed input request")
    problem = _problem(body)
    if problem:
        return error(400, problem)
    text = _text(body)
    if "[[bedrock:status=" in text:
        status = int(text.split("[[bedrock:status=", 1)[1][:3])
        return error(status, f"Injected failure ({status}).")
    blocks, stop, usage = _answer(body, text)
    if request.match_info["action"] == "converse":
        answer = {"output": {"message": {"role": "assistant", "content": blocks}}, "stopReason": stop, "usage": usage}
        return web.Response(body=orjson.dumps(answer), content_type="application/json")
    response = web.StreamResponse(headers={"Content-Type": "application/vnd.amazon.eventstream"})
    await response.prepare(request)
    for message in _stream(blocks, stop, usage, text):
        await response.write(message)
    await response.write_eof()
    return response


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_post("/model/{model}/{action:converse|converse-stream}", converse)


def create_app(api_key: str) -> web.Application:
    return native.create_app(api_key, add_routes)


if __name__ == "__main__":
    native.main("bedrock_upstream", 8904, "bedrock-secret", add_routes)
