"""POST /v1/moderations: `input` a string, an array of strings, or an array of multimodal items
(`{"type": "text", "text"}`, `{"type": "image_url", "image_url": {"url"}}`); `model` optional."""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict, cast

import orjson

from ringside_server.errors import RingsideError
from ringside_server.jsonio import parse_model_body
from ringside_server.metering.request import MeteredRequest
from ringside_server.openai.price_classes import moderation_classes

DEFAULT_MODEL = "fc:openai/omni-moderation-latest"
MAX_INPUTS = 2048
ITEM_TYPES = ("text", "image_url")


class TextItem(TypedDict):
    type: Literal["text"]
    text: str


class ImageItem(TypedDict):
    type: Literal["image_url"]
    image_url: dict[str, str]


class ModerationRequest(TypedDict, total=False):
    model: str
    input: Required[str | list[str] | list[TextItem | ImageItem]]


def _refuse(message: str) -> RingsideError:
    return RingsideError("invalid_request", message, "input")


def _input_bytes(value: Any) -> int:
    """The input's upper bound in tokens: a token is at least one byte (text); other items count
    their serialized bytes."""
    if isinstance(value, str):
        return len(value.encode())
    if not isinstance(value, list) or not value:
        raise _refuse("input must be a string, an array of strings, or an array of text and image_url items.")
    if len(value) > MAX_INPUTS:
        raise _refuse(f"input may hold at most {MAX_INPUTS} items.")
    if all(isinstance(item, str) for item in value):
        return sum(len(item.encode()) for item in value)
    total = 0
    for item in value:
        if not isinstance(item, dict) or item.get("type") not in ITEM_TYPES:
            raise _refuse("every item of input must be a string, or an object of type text or image_url.")
        if item["type"] == "text" and not isinstance(item.get("text"), str):
            raise _refuse("a text item needs a text string.")
        if item["type"] == "image_url" and not isinstance((item.get("image_url") or {}).get("url"), str):
            raise _refuse("an image_url item needs image_url.url.")
        total += len(item["text"].encode()) if item["type"] == "text" else len(orjson.dumps(item))
    return total


def metered_request(raw: bytes, peer: bool) -> MeteredRequest:
    """The moderation call as MeteredCall runs it, at the model's catalog price (0: free)."""
    body = parse_model_body(raw)
    bound = _input_bytes(body.get("input"))
    model = cast(ModerationRequest, body).get("model")
    return MeteredRequest(
        route="moderations",
        body=body,
        model_ref=DEFAULT_MODEL if model is None else model,
        input_tokens_bound=lambda catalog_model: bound,
        model_kind="moderation",
        price_classes=moderation_classes(body),
        peer=peer,
        answer_problem=_answer_problem,
    )


def _answer_problem(answer: Any) -> str | None:
    if not isinstance(answer, dict) or not isinstance(answer.get("results"), list):
        return "The provider's answer was not a list of moderation results."
    return None
