"""The upper bound of a call's prompt, before it is sent (API.md "Estimate").

A BPE token is at least one byte, so the UTF-8 byte length of every prompt part bounds its tokens;
images count at the model's maximum image-token formula; every message adds OpenAI's overhead.
"""

from __future__ import annotations

from typing import Any

import orjson

MESSAGE_OVERHEAD_TOKENS = 4
REPLY_PRIMING_TOKENS = 3
_STRUCTURAL_FIELDS = ("tools", "functions", "response_format", "tool_choice")


def text_parts(message: Any) -> list[str]:
    """The text a message contributes (string content, or the text parts of a content list)."""
    if not isinstance(message, dict):
        return []
    content = message.get("content")
    if isinstance(content, str):
        return [content]
    if isinstance(content, list):
        return [part["text"] for part in content if isinstance(part, dict) and isinstance(part.get("text"), str)]
    return []


def _message_bound(message: Any, max_image_tokens: int) -> int:
    if not isinstance(message, dict):
        return MESSAGE_OVERHEAD_TOKENS + len(orjson.dumps(message))
    total = MESSAGE_OVERHEAD_TOKENS
    content = message.get("content")
    if isinstance(content, str):
        total += len(content.encode())
    elif isinstance(content, list):
        for part in content:
            if isinstance(part, dict) and part.get("type") == "image_url":
                total += max_image_tokens
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                total += len(part["text"].encode())
            else:  # audio, files, anything new: its serialized bytes bound its tokens
                total += len(orjson.dumps(part))
    elif content is not None:
        total += len(orjson.dumps(content))
    for key, value in message.items():
        if key not in ("content", "role") and value is not None:
            total += len(orjson.dumps(value))
    return total


def input_tokens_bound(body: dict[str, Any], max_image_tokens: int) -> int:
    messages = body.get("messages")
    total = REPLY_PRIMING_TOKENS
    if isinstance(messages, list):
        total += sum(_message_bound(message, max_image_tokens) for message in messages)
    for field in _STRUCTURAL_FIELDS:
        if body.get(field) is not None:
            total += len(orjson.dumps(body[field]))
    return total
