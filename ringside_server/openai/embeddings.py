"""OpenAI's embeddings wire format: the inputs as a list, the prompt's upper bound, and the answer's
vectors in either encoding (`float`, or `base64` of little-endian float32 — the OpenAI SDK's default).
Validation of a request body is the edge's (ringside_server/openai/types/embeddings.py)."""

from __future__ import annotations

import base64
import struct
from typing import Any


def as_items(value: Any) -> list[str | list[int]]:
    """A (validated) `input` as a list of inputs: one text, one token array, or a list of either."""
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, int) for v in value)):
        return [value]
    return list(value) if isinstance(value, list) else []


def tokens_bound(items: list[str | list[int]]) -> int:
    """A token is at least one byte: the bytes of each text, the length of each token array."""
    return sum(len(item.encode()) if isinstance(item, str) else len(item) for item in items)


def encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector
