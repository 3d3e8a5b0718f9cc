"""Anthropic Messages answers → OpenAI Chat Completions: the whole message, stop reasons, usage,
errors. Anthropic's `input_tokens` excludes cache reads and writes; OpenAI's `prompt_tokens`
includes them (reads as `cached_tokens`, writes as `cache_write_tokens`, each priced on its own)."""

from __future__ import annotations

import time
from typing import Any

import orjson

from ringside_server.providers.translated import error_envelope

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
ERROR_TYPES = {
    "invalid_request_error": ("invalid_request_error", "invalid_request"),
    "request_too_large": ("invalid_request_error", "payload_too_large"),
    "not_found_error": ("invalid_request_error", "model_not_found"),
    "authentication_error": ("authentication_error", "invalid_api_key"),
    "permission_error": ("permission_error", "permission_denied"),
    "billing_error": ("permission_error", "billing_error"),
    "rate_limit_error": ("rate_limit_error", "rate_limit_exceeded"),
    "overloaded_error": ("api_error", "model_unavailable"),
    "api_error": ("api_error", "upstream_error"),
}
OVERLOADED = 529
THINKING_BLOCKS = ("thinking", "redacted_thinking")  # Anthropic's "overloaded": a 503 to OpenAI clients


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage(anthropic_usage: dict[str, Any]) -> dict[str, Any]:
    fresh = _int(anthropic_usage.get("input_tokens"))
    read = _int(anthropic_usage.get("cache_read_input_tokens"))
    written = _int(anthropic_usage.get("cache_creation_input_tokens"))
    output = _int(anthropic_usage.get("output_tokens"))
    return {
        "prompt_tokens": fresh + read + written,
        "completion_tokens": output,
        "total_tokens": fresh + read + written + output,
        "prompt_tokens_details": {"cached_tokens": read, "cache_write_tokens": written},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def completion(message: dict[str, Any]) -> dict[str, Any]:
    text: list[str] = []
    tool_calls: list[dict[str, Any]] = []
    thinking: list[dict[str, Any]] = []
    for block in message.get("content") or ():
        if not isinstance(block, dict):
            continue
        if block.get("type") in THINKING_BLOCKS:
            thinking.append(block)
        elif block.get("type") == "text":
            text.append(str(block.get("text", "")))
        elif block.get("type") == "tool_use":
            arguments = orjson.dumps(block.get("input") or {}).decode()
            tool_calls.append(
                {
                    "id": block.get("id", ""),
                    "type": "function",
                    "function": {"name": block.get("name", ""), "arguments": arguments},
                }
            )
    reply: dict[str, Any] = {"role": "assistant", "content": "".join(text) if text or not tool_calls else None}
    reply["refusal"] = None
    if tool_calls:
        reply["tool_calls"] = tool_calls
    if thinking:  # as OpenAI-format gateways carry it (LiteLLM's names), signatures kept for the next turn
        reply["reasoning_content"] = "".join(str(block.get("thinking", "")) for block in thinking)
        reply["thinking_blocks"] = thinking
    return {
        "id": "chatcmpl-" + str(message.get("id", "")),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": message.get("model", ""),
        "choices": [
            {
                "index": 0,
                "message": reply,
                "logprobs": None,
                "finish_reason": FINISH_REASONS.get(str(message.get("stop_reason")), "stop"),
            }
        ],
        "usage": usage(message.get("usage") or {}),
    }


def error(payload: bytes, status: int) -> tuple[int, dict[str, Any]]:
    """(OpenAI status, OpenAI error envelope) for an Anthropic error body."""
    envelope = error_envelope(payload, status, "type", ERROR_TYPES)
    return (503 if status == OVERLOADED else status), envelope
