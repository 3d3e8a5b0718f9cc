"""Gemini answers → OpenAI Chat Completions. Gemini's `promptTokenCount` includes its cached tokens
(`cachedContentTokenCount`) as OpenAI's `prompt_tokens` includes `cached_tokens`; thinking tokens
(`thoughtsTokenCount`) are outside `candidatesTokenCount` and become `reasoning_tokens` inside
`completion_tokens`. A stream's chunks are whole responses; the last usage seen is the call's."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from ringside_server.providers.translated import error_envelope, json_object

FILTERED = {
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
}
ERROR_TYPES = {
    "INVALID_ARGUMENT": ("invalid_request_error", "invalid_request"),
    "FAILED_PRECONDITION": ("invalid_request_error", "invalid_request"),
    "NOT_FOUND": ("invalid_request_error", "model_not_found"),
    "UNAUTHENTICATED": ("authentication_error", "invalid_api_key"),
    "PERMISSION_DENIED": ("permission_error", "permission_denied"),
    "RESOURCE_EXHAUSTED": ("rate_limit_error", "rate_limit_exceeded"),
    "UNAVAILABLE": ("api_error", "model_unavailable"),
    "DEADLINE_EXCEEDED": ("api_error", "upstream_timeout"),
}


def _int(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def usage(metadata: dict[str, Any]) -> dict[str, Any]:
    prompt = _int(metadata.get("promptTokenCount")) + _int(metadata.get("toolUsePromptTokenCount"))
    thoughts = _int(metadata.get("thoughtsTokenCount"))
    completion = _int(metadata.get("candidatesTokenCount")) + thoughts
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": _int(metadata.get("cachedContentTokenCount"))},
        "completion_tokens_details": {"reasoning_tokens": thoughts},
    }


def finish_reason(reason: Any, called: bool) -> str:
    if reason == "MAX_TOKENS":
        return "length"
    if reason in FILTERED:
        return "content_filter"
    return "tool_calls" if called else "stop"


def _split(parts: Any, first_call: int) -> tuple[str, list[dict[str, Any]]]:
    """(text, tool calls) of a candidate's parts; thought summaries are not part of the answer."""
    text: list[str] = []
    calls: list[dict[str, Any]] = []
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict) or part.get("thought"):
            continue
        if isinstance(part.get("text"), str):
            text.append(part["text"])
        call = part.get("functionCall")
        if isinstance(call, dict):
            calls.append(
                {
                    "index": first_call + len(calls),
                    "id": str(call.get("id") or f"call_{first_call + len(calls)}"),
                    "type": "function",
                    "function": {
                        "name": str(call.get("name", "")),
                        "arguments": orjson.dumps(call.get("args") or {}).decode(),
                    },
                }
            )
    return "".join(text), calls


def completion(answer: dict[str, Any]) -> dict[str, Any]:
    choices = []
    for position, candidate in enumerate(answer.get("candidates") or ()):
        text, calls = _split((candidate.get("content") or {}).get("parts"), 0)
        message: dict[str, Any] = {"role": "assistant", "content": text if text or not calls else None, "refusal": None}
        if calls:
            message["tool_calls"] = [{k: v for k, v in call.items() if k != "index"} for call in calls]
        choices.append(
            {
                "index": candidate.get("index", position),
                "message": message,
                "logprobs": None,
                "finish_reason": finish_reason(candidate.get("finishReason"), bool(calls)),
            }
        )
    return {
        "id": "chatcmpl-" + str(answer.get("responseId", "")),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": str(answer.get("modelVersion", "")),
        "choices": choices,
        "usage": usage(answer.get("usageMetadata") or {}),
    }


def error(payload: bytes, status: int) -> tuple[int, dict[str, Any]]:
    return status, error_envelope(payload, status, "status", ERROR_TYPES)


@dataclass(slots=True)
class GeminiStream:
    """Each Gemini chunk → one OpenAI chunk per candidate; the end of the stream → usage, [DONE]."""

    id: str = ""
    model: str = ""
    created: int = field(default_factory=lambda: int(time.time()))
    metadata: dict[str, Any] = field(default_factory=dict)
    started: set[int] = field(default_factory=set)
    calls: dict[int, int] = field(default_factory=dict)  # candidate → tool calls so far
    finished: set[int] = field(default_factory=set)

    def _frame(self, choices: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> bytes:
        chunk = {"id": self.id, "object": "chat.completion.chunk", "created": self.created, "model": self.model}
        return b"data: " + orjson.dumps({**chunk, "choices": choices, **(extra or {})}) + b"\n\n"

    def event(self, data: bytes) -> list[bytes]:
        answer = json_object(data)
        if answer is None:
            return []
        if isinstance(answer.get("error"), dict):
            _, envelope = error(data, 500)
            return [b"data: " + orjson.dumps(envelope) + b"\n\n"]
        self.id = self.id or "chatcmpl-" + str(answer.get("responseId", ""))
        self.model = self.model or str(answer.get("modelVersion", ""))
        self.metadata = answer.get("usageMetadata") or self.metadata
        out = []
        for position, candidate in enumerate(answer.get("candidates") or ()):
            index = int(candidate.get("index", position))
            text, calls = _split((candidate.get("content") or {}).get("parts"), self.calls.get(index, 0))
            self.calls[index] = self.calls.get(index, 0) + len(calls)
            delta: dict[str, Any] = {}
            if index not in self.started:
                self.started.add(index)
                delta.update({"role": "assistant", "refusal": None})
            if text or "role" in delta:
                delta["content"] = text
            if calls:
                delta["tool_calls"] = calls
            reason = candidate.get("finishReason")
            finish = finish_reason(reason, self.calls[index] > 0) if reason else None
            if finish:
                self.finished.add(index)
            if delta or finish:
                out.append(self._frame([{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish}]))
        return out

    def end(self) -> list[bytes]:
        if not self.finished:
            return []  # broke off before any candidate finished: the edge reports it
        return [self._frame([], {"usage": usage(self.metadata)}), b"data: [DONE]\n\n"]
