"""The fake OpenAI's ``POST /v1/moderations``, at OpenAI's wire shape (the `openai` SDK's
types/moderation*.py, generated from OpenAI's OpenAPI document): one result per string of a string
list, one for a multimodal list; an input containing ``[[flag]]`` is flagged for violence."""

from __future__ import annotations

import secrets
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import openai_wire as wire

CATEGORIES = {
    "harassment": ["text"],
    "harassment/threatening": ["text"],
    "hate": ["text"],
    "hate/threatening": ["text"],
    "illicit": ["text"],
    "illicit/violent": ["text"],
    "self-harm": ["text", "image"],
    "self-harm/instructions": ["text", "image"],
    "self-harm/intent": ["text", "image"],
    "sexual": ["text", "image"],
    "sexual/minors": ["text"],
    "violence": ["text", "image"],
    "violence/graphic": ["text", "image"],
}


def _result(parts: list[Any]) -> dict[str, Any]:
    flagged = any(isinstance(part, str) and "[[flag]]" in part for part in parts) or any(
        isinstance(part, dict) and "[[flag]]" in str(part.get("text", "")) for part in parts
    )
    kinds = {"image" if isinstance(part, dict) and part.get("type") == "image_url" else "text" for part in parts}
    return {
        "flagged": flagged,
        "categories": {name: flagged and name == "violence" for name in CATEGORIES},
        "category_scores": {name: 0.9 if flagged and name == "violence" else 0.0001 for name in CATEGORIES},
        "category_applied_input_types": {name: [k for k in types if k in kinds] for name, types in CATEGORIES.items()},
    }


def answer(body: Any) -> web.Response:
    raw = body.get("input") if isinstance(body, dict) else None
    if isinstance(raw, str):
        groups: list[list[Any]] = [[raw]]
    elif isinstance(raw, list) and raw and all(isinstance(item, str) for item in raw):
        groups = [[item] for item in raw]
    elif isinstance(raw, list) and raw:
        groups = [raw]
    else:
        body_bytes = wire.error_body(400, "'input' is a required property", param="input")
        return web.Response(status=400, body=body_bytes, content_type="application/json")
    model = body.get("model") or "omni-moderation-latest"
    reply = {
        "id": "modr-" + secrets.token_hex(12),
        "model": "omni-moderation-2024-09-26" if model == "omni-moderation-latest" else model,
        "results": [_result(group) for group in groups],
    }
    return web.Response(body=orjson.dumps(reply), content_type="application/json")
