"""`count_tokens` without a provider call: about 4 bytes a token for text (the test model's own
count, so under a test key it equals the `input_tokens` the call reports), each message's overhead,
images at the model's maximum image tokens, tool definitions by their serialized bytes."""

from __future__ import annotations

from typing import Any

import orjson

from ringside_server.openai.estimate import MESSAGE_OVERHEAD_TOKENS, REPLY_PRIMING_TOKENS, text_parts
from ringside_server.providers.catalog.load import CatalogModel

BYTES_PER_TOKEN = 4


def _tokens(data: bytes | str) -> int:
    size = len(data.encode() if isinstance(data, str) else data)
    return -(-size // BYTES_PER_TOKEN)


def count_tokens(chat: dict[str, Any], model: CatalogModel) -> int:
    total = REPLY_PRIMING_TOKENS
    for message in chat.get("messages") or ():
        total += MESSAGE_OVERHEAD_TOKENS + sum(_tokens(part) for part in text_parts(message))
        content = message.get("content") if isinstance(message, dict) else None
        if isinstance(content, list):
            total += model.max_image_tokens * sum(1 for part in content if part.get("type") == "image_url")
    if chat.get("tools"):
        total += _tokens(orjson.dumps(chat["tools"]))
    return total
