"""OpenAI Chat Completions wire shapes, built byte-for-byte in OpenAI's key order.

Kept apart from the HTTP app so the shapes can be read (and diffed against OpenAI's docs) on their own.
Every builder returns plain dicts whose insertion order is the order OpenAI puts keys on the wire;
``orjson.dumps`` keeps that order and writes compact JSON, as OpenAI does.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Any

import orjson

SYSTEM_FINGERPRINT = "fp_fake"
SERVICE_TIER = "default"

# Cycled to make completion text; one word is one token, which keeps token counts trivially checkable.
LOREM_WORDS: tuple[str, ...] = (
    "Lorem",
    "ipsum",
    "dolor",
    "sit",
    "amet",
    "consectetur",
    "adipiscing",
    "elit",
    "sed",
    "do",
    "eiusmod",
    "tempor",
    "incididunt",
    "ut",
    "labore",
    "et",
    "dolore",
    "magna",
    "aliqua",
)

# OpenAI's error `type` and `code` for the statuses the fake can return.
_ERROR_KINDS: dict[int, tuple[str, str | None]] = {
    400: ("invalid_request_error", None),
    401: ("invalid_request_error", "invalid_api_key"),
    404: ("invalid_request_error", None),
    405: ("invalid_request_error", None),
    429: ("requests", "rate_limit_exceeded"),
}


# OpenAI's own messages for the statuses fault markers usually ask for.
STATUS_MESSAGES = {
    429: "Rate limit reached for requests. Please try again later.",
    500: "The server had an error while processing your request. Sorry about that!",
}


def error_body(status: int, message: str, *, param: str | None = None, code: str | None = None) -> bytes:
    """Render OpenAI's error envelope for ``status``; 5xx map to ``server_error`` like OpenAI's."""
    error_type, default_code = _ERROR_KINDS.get(status, ("server_error", None))
    return orjson.dumps(
        {"error": {"message": message, "type": error_type, "param": param, "code": code or default_code}}
    )


def message_text(message: Any) -> str:
    """The text of one chat message: string content, or the ``text`` parts of a content list."""
    if not isinstance(message, dict):
        return ""
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict) and part.get("type") == "text" and isinstance(part.get("text"), str)
        )
    return ""


def count_prompt_tokens(messages: list[Any]) -> int:
    """A deterministic stand-in for a tokenizer: ceil(utf-8 bytes / 4) + 3 per message, + 3 priming.

    It never exceeds the content's utf-8 byte length plus the small per-message overhead, which lets a
    gateway's pre-call estimate (bytes-based) be checked as an upper bound.
    """
    total = 3
    for message in messages:
        total += math.ceil(len(message_text(message).encode()) / 4) + 3
    return total


def completion_tokens(count: int) -> list[str]:
    """``count`` tokens of lorem ipsum, each a word with a leading space except the first."""
    return [(" " if index else "") + LOREM_WORDS[index % len(LOREM_WORDS)] for index in range(count)]


@dataclass(frozen=True)
class Identity:
    """The ``id`` and ``created`` of a response, derived only from (model, messages).

    Streaming flags and token limits are left out on purpose, so the same conversation asked with and
    without ``include_usage`` gives frames that differ only in their usage parts.
    """

    id: str
    created: int

    @classmethod
    def of(cls, model: str, messages: list[Any]) -> Identity:
        digest = hashlib.sha256(orjson.dumps([model, messages], option=orjson.OPT_SORT_KEYS)).hexdigest()
        return cls(id="chatcmpl-" + digest[:24], created=1_700_000_000 + int(digest[24:32], 16) % 100_000_000)


def usage(prompt_tokens: int, completion_tokens: int) -> dict[str, Any]:
    """OpenAI's full usage object, zero for the details the fake never produces."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }


def completion(
    identity: Identity,
    model: str,
    text: str,
    choice_count: int,
    finish_reason: str,
    usage_object: dict[str, Any],
) -> dict[str, Any]:
    """A non-streamed ``chat.completion`` object."""
    return {
        "id": identity.id,
        "object": "chat.completion",
        "created": identity.created,
        "model": model,
        "choices": [
            {
                "index": index,
                "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                "logprobs": None,
                "finish_reason": finish_reason,
            }
            for index in range(choice_count)
        ],
        "usage": usage_object,
        "service_tier": SERVICE_TIER,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }


def tool_call(identity: Identity, name: str, arguments: str) -> dict[str, Any]:
    """One function call of an assistant message (its id derived from the conversation)."""
    return {"id": "call_" + identity.id[-24:], "type": "function", "function": {"name": name, "arguments": arguments}}


def arguments_delta(piece: str) -> dict[str, Any]:
    """A stream chunk's delta carrying a piece of the first tool call's arguments."""
    return {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]}


@dataclass(frozen=True)
class ChunkFramer:
    """Renders ``chat.completion.chunk`` SSE frames for one streamed response."""

    identity: Identity
    model: str
    include_usage: bool

    def choice(self, index: int, delta: dict[str, Any], finish_reason: str | None = None) -> bytes:
        """A frame carrying one choice's delta."""
        return self._frame([{"index": index, "delta": delta, "logprobs": None, "finish_reason": finish_reason}], None)

    def usage(self, usage_object: dict[str, Any]) -> bytes:
        """The trailing frame with no choices and the full usage (only sent when include_usage is on)."""
        return self._frame([], usage_object)

    def _frame(self, choices: list[dict[str, Any]], usage_object: dict[str, Any] | None) -> bytes:
        chunk: dict[str, Any] = {
            "id": self.identity.id,
            "object": "chat.completion.chunk",
            "created": self.identity.created,
            "model": self.model,
            "service_tier": SERVICE_TIER,
            "system_fingerprint": SYSTEM_FINGERPRINT,
            "choices": choices,
        }
        # OpenAI adds `"usage":null` to every chunk only when usage was asked for; otherwise no key at all.
        if self.include_usage:
            chunk["usage"] = usage_object
        return b"data: " + orjson.dumps(chunk) + b"\n\n"


DONE_FRAME = b"data: [DONE]\n\n"


def model_list(created: int) -> dict[str, Any]:
    """``GET /v1/models`` in OpenAI's list shape."""
    names = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini", "o4-mini")
    return {
        "object": "list",
        "data": [{"id": name, "object": "model", "created": created, "owned_by": "system"} for name in names],
    }
