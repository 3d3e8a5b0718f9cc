"""OpenAI Chat Completions ↔ Bedrock Converse (`POST /model/{id}/converse`, `…/converse-stream`).

Request: system → `system` blocks; user/assistant turns of `text`, `image` (bytes, base64 in JSON)
and `toolUse` blocks; tool results → `toolResult` blocks; max_tokens/temperature/top_p/stop →
`inferenceConfig`; tools → `toolConfig`. Usage: Converse's `inputTokens` excludes cache reads and
writes (`cacheReadInputTokens`, `cacheWriteInputTokens`), as Anthropic's does. Stream events
(messageStart, contentBlockStart/Delta/Stop, messageStop, metadata) become OpenAI chunks; usage
comes last, in `metadata`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from ringside_server.providers.anthropic.response import usage as anthropic_usage
from ringside_server.providers.openai_input import (
    Shape,
    bad,
    base64_only,
    conversation,
    functions,
    named_tool_choice,
    stop_sequences,
)

FINISH_REASONS = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls",
                  "guardrail_intervened": "content_filter", "content_filtered": "content_filter"}  # fmt: skip
ERROR_TYPES = {"ValidationException": ("invalid_request_error", "invalid_request"),
               "AccessDeniedException": ("permission_error", "permission_denied"),
               "ResourceNotFoundException": ("invalid_request_error", "model_not_found"),
               "ThrottlingException": ("rate_limit_error", "rate_limit_exceeded"),
               "ServiceUnavailableException": ("api_error", "model_unavailable"),
               "ModelNotReadyException": ("api_error", "model_unavailable")}  # fmt: skip


def _image(image: tuple[str, str] | str, where: str) -> dict[str, Any]:
    media_type, data = base64_only(image, where, "Bedrock")
    return {"image": {"format": media_type.split("/")[1], "source": {"bytes": data}}}


SHAPE = Shape(
    key="content",
    assistant="assistant",
    text=lambda text: {"text": text},
    image=_image,
    tool_use=lambda call: {"toolUse": {"toolUseId": call.id, "name": call.name, "input": call.arguments}},
    tool_result=lambda call_id, _name, text: {"toolResult": {"toolUseId": call_id, "content": [{"text": text}]}},
    provider="Bedrock",
)


def request(body: dict[str, Any]) -> dict[str, Any]:
    if (body.get("n") or 1) != 1:
        raise bad("Bedrock returns one choice: n must be 1.", "n")
    system, turns = conversation(body["messages"], SHAPE)
    converted: dict[str, Any] = {"messages": turns}
    if system:
        converted["system"] = system
    config: dict[str, Any] = {}
    limit = body.get("max_completion_tokens") or body.get("max_tokens")
    if limit:
        config["maxTokens"] = limit
    for ours, theirs in (("temperature", "temperature"), ("top_p", "topP")):
        if body.get(ours) is not None:
            config[theirs] = body[ours]
    if stop_sequences(body.get("stop")):
        config["stopSequences"] = stop_sequences(body.get("stop"))
    if config:
        converted["inferenceConfig"] = config
    if body.get("tools"):
        specs = [
            {
                "toolSpec": {
                    "name": f.name,
                    "description": f.description or f.name,
                    "inputSchema": {"json": f.parameters or {"type": "object"}},
                }
            }
            for f in functions(body["tools"])
        ]
        tool_config: dict[str, Any] = {"tools": specs}
        choice = body.get("tool_choice")
        named = named_tool_choice(choice)
        if named:
            tool_config["toolChoice"] = {"tool": {"name": named}}
        elif choice == "required":
            tool_config["toolChoice"] = {"any": {}}
        if choice != "none":  # Converse has no "none": leaving the tools out says it
            converted["toolConfig"] = tool_config
    return converted


def usage(converse_usage: Any) -> dict[str, Any]:
    counts = converse_usage if isinstance(converse_usage, dict) else {}
    return anthropic_usage(
        {
            "input_tokens": counts.get("inputTokens"),
            "output_tokens": counts.get("outputTokens"),
            "cache_read_input_tokens": counts.get("cacheReadInputTokens"),
            "cache_creation_input_tokens": counts.get("cacheWriteInputTokens"),
        }
    )


def completion(answer: dict[str, Any]) -> dict[str, Any]:
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for block in ((answer.get("output") or {}).get("message") or {}).get("content") or ():
        if isinstance(block.get("text"), str):
            text.append(block["text"])
        use = block.get("toolUse")
        if isinstance(use, dict):
            arguments = orjson.dumps(use.get("input") or {}).decode()
            calls.append(
                {
                    "id": use.get("toolUseId", ""),
                    "type": "function",
                    "function": {"name": use.get("name", ""), "arguments": arguments},
                }
            )
    reply: dict[str, Any] = {
        "role": "assistant",
        "content": "".join(text) if text or not calls else None,
        "refusal": None,
    }
    if calls:
        reply["tool_calls"] = calls
    finish = FINISH_REASONS.get(str(answer.get("stopReason")), "stop")
    return {
        "id": "chatcmpl-bedrock",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": "",
        "choices": [{"index": 0, "message": reply, "logprobs": None, "finish_reason": finish}],
        "usage": usage(answer.get("usage")),
    }


def error(payload: bytes, status: int, kind: str = "") -> tuple[int, dict[str, Any]]:
    """Bedrock's errors are `{"message"}` with the exception's name in `x-amzn-ErrorType`."""
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        parsed = None
    message = str(parsed.get("message") or parsed.get("Message") or "") if isinstance(parsed, dict) else ""
    error_type, code = ERROR_TYPES.get(kind.split(":")[0], ("api_error", "upstream_error"))
    body = {
        "message": (message or f"The provider answered {status}.")[:2000],
        "type": error_type,
        "param": None,
        "code": code,
    }
    return status, {"error": body}


@dataclass(slots=True)
class ConverseStream:
    created: int = field(default_factory=lambda: int(time.time()))
    tools: dict[int, int] = field(default_factory=dict)  # content block index → OpenAI tool call index
    finish: str = ""

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        chunk = {
            "id": "chatcmpl-bedrock",
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": "",
            "choices": [choice],
        }
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def event(self, kind: str, event: dict[str, Any]) -> list[bytes]:
        if kind == "messageStart":
            return [self._chunk({"role": "assistant", "content": "", "refusal": None})]
        if kind == "contentBlockStart":
            use = (event.get("start") or {}).get("toolUse")
            if not isinstance(use, dict):
                return []
            position = self.tools.setdefault(int(event.get("contentBlockIndex", 0)), len(self.tools))
            call = {
                "index": position,
                "id": use.get("toolUseId", ""),
                "type": "function",
                "function": {"name": use.get("name", ""), "arguments": ""},
            }
            return [self._chunk({"tool_calls": [call]})]
        if kind == "contentBlockDelta":
            delta = event.get("delta") or {}
            if isinstance(delta.get("text"), str):
                return [self._chunk({"content": delta["text"]})]
            use = delta.get("toolUse")
            if isinstance(use, dict):
                position = self.tools.get(int(event.get("contentBlockIndex", 0)), 0)
                return [
                    self._chunk({"tool_calls": [{"index": position, "function": {"arguments": use.get("input", "")}}]})
                ]
            return []
        if kind == "messageStop":
            self.finish = FINISH_REASONS.get(str(event.get("stopReason")), "stop")
            return [self._chunk({}, self.finish)]
        if kind == "metadata" and self.finish:
            final = {
                "id": "chatcmpl-bedrock",
                "object": "chat.completion.chunk",
                "created": self.created,
                "model": "",
                "choices": [],
                "usage": usage(event.get("usage")),
            }
            return [b"data: " + orjson.dumps(final) + b"\n\n", b"data: [DONE]\n\n"]
        return []
