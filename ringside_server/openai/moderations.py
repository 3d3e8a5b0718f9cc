"""OpenAI's moderation result shape (openai-openapi `ModerationResult`; the `openai` SDK's
types/moderation.py): the categories, and the input types each one can score."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson

# category → the input types it applies to (image: only where OpenAI scores images)
CATEGORIES: dict[str, tuple[str, ...]] = {
    "harassment": ("text",),
    "harassment/threatening": ("text",),
    "hate": ("text",),
    "hate/threatening": ("text",),
    "illicit": ("text",),
    "illicit/violent": ("text",),
    "self-harm": ("text", "image"),
    "self-harm/instructions": ("text", "image"),
    "self-harm/intent": ("text", "image"),
    "sexual": ("text", "image"),
    "sexual/minors": ("text",),
    "violence": ("text", "image"),
    "violence/graphic": ("text", "image"),
}


def inputs_of(value: Any) -> list[list[Any]]:
    """One entry per result: each string of a string list alone; a multimodal list together."""
    if isinstance(value, str):
        return [[value]]
    if isinstance(value, list) and value and all(isinstance(item, str) for item in value):
        return [[item] for item in value]
    return [value] if isinstance(value, list) else [[]]


def quiet_result(parts: list[Any]) -> dict[str, Any]:
    """A well-formed result that flags nothing, its scores small and derived from the input (the
    same input always scores the same)."""
    present = {"image" if isinstance(part, dict) and part.get("type") == "image_url" else "text" for part in parts}
    digest = hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS)).digest()
    return {
        "flagged": False,
        "categories": dict.fromkeys(CATEGORIES, False),
        "category_scores": {name: digest[i] / 256_000 for i, name in enumerate(CATEGORIES)},
        "category_applied_input_types": {
            name: [kind for kind in kinds if kind in present] for name, kinds in CATEGORIES.items()
        },
    }
