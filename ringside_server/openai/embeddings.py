"""OpenAI's embeddings request: validation with bounds, the prompt's upper bound, and the answer's
vectors in either encoding (`float`, or `base64` of little-endian float32 — the OpenAI SDK's default)."""

from __future__ import annotations

import base64
import struct
from typing import Any

from ringside_server.errors import RingsideError

MAX_INPUTS = 2048
MAX_TOKEN_ID = 2**31
ENCODINGS = ("float", "base64")


def inputs(body: dict[str, Any]) -> list[str | list[int]]:
    """The inputs as a list (text, or token ids), each non-empty; raises in OpenAI's terms."""
    value = body.get("input")
    if isinstance(value, str) or (isinstance(value, list) and value and all(isinstance(v, int) for v in value)):
        items: list[Any] = [value]
    elif isinstance(value, list) and value:
        items = value
    else:
        raise RingsideError(
            "invalid_request", "input must be a string or an array of strings or token arrays.", "input"
        )
    if len(items) > MAX_INPUTS:
        raise RingsideError("invalid_request", f"input may hold at most {MAX_INPUTS} items.", "input")
    for item in items:
        text_ok = isinstance(item, str) and item
        tokens_ok = isinstance(item, list) and item and all(_token(t) for t in item)
        if not (text_ok or tokens_ok):
            raise RingsideError("invalid_request", "every input must be a non-empty string or token array.", "input")
    encoding = body.get("encoding_format", "float")
    if encoding not in ENCODINGS:
        raise RingsideError("invalid_request", "encoding_format must be float or base64.", "encoding_format")
    return items


def _token(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value < MAX_TOKEN_ID


def tokens_bound(items: list[str | list[int]]) -> int:
    """A token is at least one byte: the bytes of each text, the length of each token array."""
    return sum(len(item.encode()) if isinstance(item, str) else len(item) for item in items)


def encode(vector: list[float], encoding: str) -> list[float] | str:
    if encoding == "base64":
        return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()
    return vector
