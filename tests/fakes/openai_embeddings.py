"""The fake OpenAI's ``POST /v1/embeddings``: deterministic vectors (8 dimensions unless
``dimensions`` says otherwise) as floats or, with ``encoding_format: base64``, as base64 of
little-endian float32 — OpenAI's two encodings; usage ⌈bytes/4⌉ per text, one per token id."""

from __future__ import annotations

import base64
import hashlib
import math
import struct
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import openai_wire as wire

DIMENSIONS = 8


def _error(status: int, message: str, param: str | None = None) -> web.Response:
    return web.Response(
        status=status, body=wire.error_body(status, message, param=param), content_type="application/json"
    )


def answer(body: Any) -> web.Response:
    if not isinstance(body, dict) or not isinstance(body.get("model"), str):
        return _error(400, "you must provide a model parameter", "model")
    raw = body.get("input")
    items = [raw] if isinstance(raw, str) or (isinstance(raw, list) and raw and isinstance(raw[0], int)) else raw
    if not isinstance(items, list) or not items:
        return _error(400, "'input' is a required property", "input")
    encoding = body.get("encoding_format", "float")
    dimensions = body.get("dimensions", DIMENSIONS)
    data, tokens = [], 0
    for index, item in enumerate(items):
        tokens += math.ceil(len(item.encode()) / 4) if isinstance(item, str) else len(item)
        digest = hashlib.sha256(orjson.dumps(item)).digest()
        vector = [(digest[i % 32] - 128) / 256 for i in range(dimensions)]
        encoded: Any = vector
        if encoding == "base64":
            encoded = base64.b64encode(struct.pack(f"<{dimensions}f", *vector)).decode()
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    usage = {"prompt_tokens": tokens, "total_tokens": tokens}
    reply = {"object": "list", "data": data, "model": body["model"], "usage": usage}
    return web.Response(body=orjson.dumps(reply), content_type="application/json")
