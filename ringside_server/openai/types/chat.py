"""POST /v1/chat/completions (and the peer's /chat/completions): the body Ringside reads."""

from __future__ import annotations

from typing import Any, Required, TypedDict, cast

from ringside_server.errors import RingsideError
from ringside_server.jsonio import parse_model_body
from ringside_server.metering.request import MeteredRequest
from ringside_server.openai import chat

MAX_MESSAGES = 100_000
MAX_CHOICES = 128
MAX_OUTPUT_TOKENS = 10**9


class StreamOptions(TypedDict, total=False):
    include_usage: bool


class ChatCompletionRequest(TypedDict, total=False):
    """The fields Ringside reads; the rest (tools, temperature, …) is relayed as it came."""

    model: str
    messages: Required[list[dict[str, Any]]]
    stream: bool | None
    stream_options: StreamOptions | None
    max_completion_tokens: int | None
    max_tokens: int | None
    n: int | None
    user: str


def positive_int(body: dict[str, Any], name: str, ceiling: int) -> int:
    """An optional integer field in [1, ceiling]; 0 when absent or null."""
    value = body.get(name)
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= ceiling:
        raise RingsideError("invalid_request", f"{name} must be an integer between 1 and {ceiling}.", name)
    return value


def validate(body: dict[str, Any]) -> ChatCompletionRequest:
    """The body, checked: a non-empty list of message objects, and the fields the metering reads."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise RingsideError("invalid_request", "messages must be a non-empty array.", "messages")
    if len(messages) > MAX_MESSAGES:
        raise RingsideError("invalid_request", f"messages may hold at most {MAX_MESSAGES} items.", "messages")
    if not all(isinstance(message, dict) for message in messages):
        raise RingsideError("invalid_request", "every item of messages must be an object.", "messages")
    if "stream" in body and not isinstance(body["stream"], bool | None):
        raise RingsideError("invalid_request", "stream must be a boolean.", "stream")
    options = body.get("stream_options")
    if options is not None and (not isinstance(options, dict) or not body.get("stream")):
        raise RingsideError(
            "invalid_request",
            "stream_options must be an object, and is only allowed with stream: true.",
            "stream_options",
        )
    # max_tokens (the older name) is read only when max_completion_tokens is not given
    positive_int(body, "max_completion_tokens", MAX_OUTPUT_TOKENS) or positive_int(
        body, "max_tokens", MAX_OUTPUT_TOKENS
    )
    positive_int(body, "n", MAX_CHOICES)
    return cast(ChatCompletionRequest, body)


def metered_request(raw: bytes, peer: bool) -> MeteredRequest:
    """The chat call as MeteredCall runs it."""
    return chat.metered(cast(dict[str, Any], validate(parse_model_body(raw))), peer)
