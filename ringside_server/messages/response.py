"""OpenAI chat answers written back in Anthropic's Messages shape: the message, its stop reason and
usage, and errors as `{"type": "error", "error": {type, message, code, request_id}}`."""

from __future__ import annotations

from typing import Any

import orjson

# OpenAI finish_reason → Anthropic stop_reason (the inverse of providers/anthropic/response.py's)
STOP_REASONS = {"stop": "end_turn", "length": "max_tokens", "tool_calls": "tool_use", "content_filter": "refusal"}
# API.md "Errors": Anthropic's error type by status
ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    404: "not_found_error",
    413: "request_too_large",
    429: "rate_limit_error",
}


def message_id(chat_id: object) -> str:
    """Anthropic's `msg_…` id for a chat answer's id (an Anthropic provider's own id comes back)."""
    rest = str(chat_id or "").removeprefix("chatcmpl-")
    return rest if rest.startswith("msg_") else "msg_" + rest


def as_object(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage(chat_usage: Any) -> dict[str, int]:
    """Anthropic's usage: `input_tokens` excludes cache reads and writes, which OpenAI's includes."""
    chat_usage = chat_usage if isinstance(chat_usage, dict) else {}
    details = chat_usage.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    read, written = _count(details.get("cached_tokens")), _count(details.get("cache_write_tokens"))
    return {
        "input_tokens": max(0, _count(chat_usage.get("prompt_tokens")) - read - written),
        "output_tokens": _count(chat_usage.get("completion_tokens")),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": read,
    }


def tool_input(arguments: Any) -> Any:
    try:
        parsed = orjson.loads(arguments) if isinstance(arguments, str) and arguments else {}
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def thinking_blocks(reply: dict[str, Any]) -> list[dict[str, Any]]:
    """An answer's thinking, as Anthropic's blocks: the provider's own (`thinking_blocks`, signatures
    kept: Anthropic wants them back with tool results), else its `reasoning_content` unsigned."""
    blocks = reply.get("thinking_blocks")
    if isinstance(blocks, list) and blocks:
        return [block for block in blocks if isinstance(block, dict)]
    reasoning = reply.get("reasoning_content")
    if isinstance(reasoning, str) and reasoning:
        return [{"type": "thinking", "thinking": reasoning, "signature": ""}]
    return []


def message(completion: dict[str, Any]) -> dict[str, Any]:
    """The Messages answer for a chat.completion (its first choice: Anthropic answers one)."""
    choices = completion.get("choices") or [{}]
    choice = as_object(choices[0])
    reply = as_object(choice.get("message"))
    content: list[dict[str, Any]] = thinking_blocks(reply)
    if isinstance(reply.get("content"), str) and reply["content"]:
        content.append({"type": "text", "text": reply["content"]})
    for call in reply.get("tool_calls") or ():
        call = as_object(call)
        function = as_object(call.get("function"))
        content.append(
            {
                "type": "tool_use",
                "id": str(call.get("id", "")),
                "name": str(function.get("name", "")),
                "input": tool_input(function.get("arguments")),
            }
        )
    return {
        "id": message_id(completion.get("id")),
        "type": "message",
        "role": "assistant",
        "model": str(completion.get("model", "")),
        "content": content,
        "stop_reason": STOP_REASONS.get(str(choice.get("finish_reason")), "end_turn"),
        "stop_sequence": None,
        "usage": usage(completion.get("usage")),
    }


def error_type(status: int) -> str:
    return ERROR_TYPES.get(status, "api_error" if status >= 500 else "invalid_request_error")


def error(status: int, openai_error: Any) -> dict[str, Any]:
    """Anthropic's error body for OpenAI's `error` object (its code and request id kept)."""
    detail = openai_error if isinstance(openai_error, dict) else {}
    body: dict[str, Any] = {
        "type": error_type(status),
        "message": str(detail.get("message") or f"The request failed with status {status}."),
    }
    for name in ("code", "param", "request_id"):
        if detail.get(name) is not None:
            body[name] = detail[name]
    return {"type": "error", "error": body}


def error_bytes(status: int, openai_body: bytes) -> bytes:
    """An OpenAI error envelope (bytes) as Anthropic's."""
    try:
        parsed = orjson.loads(openai_body)
    except orjson.JSONDecodeError:
        parsed = None
    detail = parsed.get("error") if isinstance(parsed, dict) else None
    return orjson.dumps(error(status, detail))
