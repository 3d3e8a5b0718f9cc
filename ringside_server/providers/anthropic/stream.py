"""Anthropic's SSE events → OpenAI chat.completion.chunk frames.

Text deltas become `content` deltas; thinking becomes `reasoning_content` and `thinking_blocks`
deltas (the names OpenAI-format gateways use; the signature comes last, as its own piece); a
`tool_use` block becomes a `tool_calls` entry (id and name first, then its `input_json_delta`
pieces as `arguments`); `message_delta` carries the stop reason; usage is cumulative in Anthropic's
stream (message_start, then message_delta), so the last values seen are the call's, sent as
OpenAI's final usage chunk before `[DONE]`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from ringside_server.providers.anthropic.response import ERROR_TYPES, FINISH_REASONS, usage
from ringside_server.providers.translated import error_envelope, json_object

DONE = b"data: [DONE]\n\n"


@dataclass(slots=True)
class StreamTranslator:
    id: str = ""
    model: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    usage: dict[str, Any] = field(default_factory=dict)
    # Anthropic block index → OpenAI tool_calls index
    tools: dict[int, int] = field(default_factory=dict)
    finished: bool = False

    def _chunk(self, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        chunk = {
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
        }
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def end(self) -> list[bytes]:
        return []  # message_stop already sent usage and [DONE]; without it the stream broke off

    def event(self, data: bytes) -> list[bytes]:
        """The OpenAI frames for one Anthropic event's `data:` payload."""
        event = json_object(data)
        if event is None:
            return []
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self.id = "chatcmpl-" + str(message.get("id", ""))
            self.model = str(message.get("model", ""))
            self.usage.update(message.get("usage") or {})
            return [self._chunk({"role": "assistant", "content": "", "refusal": None})]
        if kind == "content_block_start":
            block = event.get("content_block") or {}
            if block.get("type") == "tool_use":
                position = self.tools.setdefault(int(event.get("index", 0)), len(self.tools))
                call = {
                    "index": position,
                    "id": block.get("id", ""),
                    "type": "function",
                    "function": {"name": block.get("name", ""), "arguments": ""},
                }
                return [self._chunk({"tool_calls": [call]})]
            if block.get("type") == "text" and block.get("text"):
                return [self._chunk({"content": block["text"]})]
            if block.get("type") == "redacted_thinking":
                return [self._chunk({"thinking_blocks": [block]})]
            return []
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta":
                return [self._chunk({"content": delta.get("text", "")})]
            if delta.get("type") == "input_json_delta":
                position = self.tools.get(int(event.get("index", 0)), 0)
                call = {"index": position, "function": {"arguments": delta.get("partial_json", "")}}
                return [self._chunk({"tool_calls": [call]})]
            if delta.get("type") == "thinking_delta":
                piece = {"type": "thinking", "thinking": delta.get("thinking", "")}
                return [self._chunk({"reasoning_content": delta.get("thinking", ""), "thinking_blocks": [piece]})]
            if delta.get("type") == "signature_delta":
                piece = {"type": "thinking", "thinking": "", "signature": delta.get("signature", "")}
                return [self._chunk({"thinking_blocks": [piece]})]
            return []
        if kind == "message_delta":
            self.usage.update({k: v for k, v in (event.get("usage") or {}).items() if v is not None})
            reason = (event.get("delta") or {}).get("stop_reason")
            return [self._chunk({}, FINISH_REASONS.get(str(reason), "stop"))]
        if kind == "message_stop":
            self.finished = True
            final = {
                "id": self.id,
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": self.model,
                "choices": [],
                "usage": usage(self.usage),
            }
            return [b"data: " + orjson.dumps(final) + b"\n\n", DONE]
        if kind == "error":  # shaped like an error body
            return [b"data: " + orjson.dumps(error_envelope(data, 500, "type", ERROR_TYPES)) + b"\n\n"]
        return []  # ping
