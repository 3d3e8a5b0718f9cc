"""OpenAI Chat Completions ↔ Cohere v2 chat (`POST /v2/chat`, as the cohere 7.3 SDK sends it).

Cohere's v2 messages are close to OpenAI's (roles, tool_calls, tool results by id), so the request
mostly keeps its shape: `developer` becomes `system`, `top_p` becomes `p`, `stop` becomes
`stop_sequences`, `tool_choice` becomes REQUIRED/NONE. Usage is Cohere's `billed_units` (what it
charges), else its `tokens`. Stream events (`message-start`, `content-delta`, `tool-call-start`,
`tool-call-delta`, `message-end`) become OpenAI chunks.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from ringside_server.providers.openai_input import bad, named_tool_choice, stop_sequences, text_of, tool_calls
from ringside_server.providers.translated import json_object

FINISH_REASONS = {"COMPLETE": "stop", "STOP_SEQUENCE": "stop", "MAX_TOKENS": "length", "TOOL_CALL": "tool_calls"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
               404: "invalid_request_error", 422: "invalid_request_error", 429: "rate_limit_error",
               498: "authentication_error"}  # fmt: skip


def _message(message: dict[str, Any], where: str) -> dict[str, Any]:
    role = message.get("role")
    if role in ("system", "developer"):
        return {"role": "system", "content": text_of(message.get("content"), where)}
    if role == "user":
        content = message.get("content")
        return {"role": "user", "content": content if isinstance(content, (str, list)) else text_of(content, where)}
    if role == "assistant":
        converted: dict[str, Any] = {"role": "assistant"}
        text = text_of(message.get("content"), where)
        if text:
            converted["content"] = text
        calls = tool_calls(message.get("tool_calls") or [], where)
        if calls:
            converted["tool_calls"] = [
                {
                    "id": c.id,
                    "type": "function",
                    "function": {"name": c.name, "arguments": orjson.dumps(c.arguments).decode()},
                }
                for c in calls
            ]
        return converted
    if role == "tool":
        return {
            "role": "tool",
            "tool_call_id": str(message.get("tool_call_id", "")),
            "content": text_of(message.get("content"), where),
        }
    raise bad(f"{where}.role must be system, developer, user, assistant or tool.")


def request(body: dict[str, Any]) -> dict[str, Any]:
    if (body.get("n") or 1) != 1:
        raise bad("Cohere returns one choice: n must be 1.", "n")
    converted: dict[str, Any] = {
        "model": body["model"],
        "messages": [_message(m, f"messages[{i}]") for i, m in enumerate(body["messages"])],
        "stream": bool(body.get("stream")),
    }
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit:
        converted["max_tokens"] = limit
    for ours, theirs in (("temperature", "temperature"), ("top_p", "p"), ("seed", "seed")):
        if body.get(ours) is not None:
            converted[theirs] = body[ours]
    if stop_sequences(body.get("stop")):
        converted["stop_sequences"] = stop_sequences(body.get("stop"))
    if body.get("tools"):
        converted["tools"] = body["tools"]
        choice = body.get("tool_choice")
        if named_tool_choice(choice):
            raise bad("Cohere cannot be made to call one named tool: use required.", "tool_choice")
        if choice in ("required", "none"):
            converted["tool_choice"] = choice.upper()
    response_format = body.get("response_format")
    if isinstance(response_format, dict) and response_format.get("type") in ("json_object", "json_schema"):
        schema = (response_format.get("json_schema") or {}).get("schema")
        converted["response_format"] = {"type": "json_object", **({"json_schema": schema} if schema else {})}
    return converted


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and value > 0 else 0


def usage(cohere_usage: Any) -> dict[str, Any]:
    cohere_usage = cohere_usage if isinstance(cohere_usage, dict) else {}
    counts = cohere_usage.get("billed_units") or cohere_usage.get("tokens") or {}
    prompt, completion = _int(counts.get("input_tokens")), _int(counts.get("output_tokens"))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def completion(answer: dict[str, Any]) -> dict[str, Any]:
    message = answer.get("message") or {}
    text = "".join(
        p.get("text", "") for p in message.get("content") or () if isinstance(p, dict) and p.get("type") == "text"
    )
    reply: dict[str, Any] = {
        "role": "assistant",
        "content": text or (None if message.get("tool_calls") else ""),
        "refusal": None,
    }
    if message.get("tool_calls"):
        reply["tool_calls"] = message["tool_calls"]
    return {
        "id": "chatcmpl-" + str(answer.get("id", "")),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "",
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": FINISH_REASONS.get(str(answer.get("finish_reason")), "stop"),
            }
        ],
        "usage": usage(answer.get("usage")),
    }


def error(payload: bytes, status: int) -> tuple[int, dict[str, Any]]:
    """Cohere's errors are `{"id", "message"}`: the status says what kind."""
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        parsed = None
    message = (
        str((parsed or {}).get("message") if isinstance(parsed, dict) else "") or f"The provider answered {status}."
    )
    status = 401 if status == 498 else status  # 498: Cohere's invalid token
    code = {429: "rate_limit_exceeded", 401: "invalid_api_key"}.get(
        status, "upstream_error" if status >= 500 else "invalid_request"
    )
    return status, {
        "error": {"message": message[:2000], "type": ERROR_TYPES.get(status, "api_error"), "param": None, "code": code}
    }


@dataclass(slots=True)
class CohereStream:
    id: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    tools: dict[int, int] = field(default_factory=dict)  # Cohere's tool-call index → OpenAI's
    done: bool = False

    def _chunk(self, delta: dict[str, Any], finish: str | None = None, extra: dict[str, Any] | None = None) -> bytes:
        choices = [] if extra else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}]
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": "",
            "choices": choices,
        }
        return b"data: " + orjson.dumps({**chunk, **(extra or {})}) + b"\n\n"

    def event(self, data: bytes) -> list[bytes]:
        event = json_object(data)
        if event is None:
            return []
        kind = event.get("type")
        message = (event.get("delta") or {}).get("message") or {}
        if kind == "message-start":
            self.id = "chatcmpl-" + str(event.get("id", ""))
            return [self._chunk({"role": "assistant", "content": "", "refusal": None})]
        if kind == "content-delta":
            text = (message.get("content") or {}).get("text")
            return [self._chunk({"content": text})] if text else []
        if kind == "tool-call-start":
            call = message.get("tool_calls") or {}
            position = self.tools.setdefault(int(event.get("index", 0)), len(self.tools))
            function = call.get("function") or {}
            started = {"name": function.get("name", ""), "arguments": function.get("arguments", "")}
            return [
                self._chunk(
                    {
                        "tool_calls": [
                            {"index": position, "id": call.get("id", ""), "type": "function", "function": started}
                        ]
                    }
                )
            ]
        if kind == "tool-call-delta":
            arguments = ((message.get("tool_calls") or {}).get("function") or {}).get("arguments", "")
            position = self.tools.get(int(event.get("index", 0)), 0)
            return (
                [self._chunk({"tool_calls": [{"index": position, "function": {"arguments": arguments}}]})]
                if arguments
                else []
            )
        if kind == "message-end":
            self.done = True
            delta = event.get("delta") or {}
            finish = FINISH_REASONS.get(str(delta.get("finish_reason")), "stop")
            return [
                self._chunk({}, finish),
                self._chunk({}, extra={"usage": usage(delta.get("usage"))}),
                b"data: [DONE]\n\n",
            ]
        return []

    def end(self) -> list[bytes]:
        return []  # message-end sent usage and [DONE]; without it the stream broke off
