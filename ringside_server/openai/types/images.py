"""POST /v1/images/generations (JSON), /edits and /variations (multipart): the fields Ringside
reads; the rest (style, background, output_format, …) is relayed as it came."""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict

from ringside_server.errors import RingsideError
from ringside_server.metering.request import MeteredRequest
from ringside_server.openai import images
from ringside_server.openai.multipart import FilePart
from ringside_server.providers.capabilities import Route

DEFAULT_MODEL = "fc:openai/dall-e-2"  # OpenAI's default on every image route
MAX_PROMPT_CHARS = 32_000
MAX_IMAGES = 10
MAX_EDIT_IMAGES = 16
RESPONSE_FORMATS = ("url", "b64_json")


class ImageGenerationRequest(TypedDict, total=False):
    prompt: Required[str]
    model: str
    n: int
    size: str
    quality: str
    response_format: Literal["url", "b64_json"]
    user: str


def _bad(message: str, param: str) -> RingsideError:
    return RingsideError("invalid_request", message, param)


def _count(body: dict[str, Any]) -> int:
    """`n`: an integer 1..10 (a multipart form sends it as text)."""
    value = body.get("n", 1)
    if isinstance(value, str) and value.isascii() and value.isdigit() and len(value) < 4:
        value = int(value)
    if value is None:
        value = 1
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_IMAGES:
        raise _bad(f"n must be an integer between 1 and {MAX_IMAGES}.", "n")
    body["n"] = value
    return value


def _text(body: dict[str, Any], name: str, required: bool = False, limit: int = 100) -> str | None:
    value = body.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value or len(value) > limit:
        raise _bad(f"{name} must be a non-empty string of at most {limit} characters.", name)
    return value


def _request(route: Route, body: dict[str, Any], prompt_required: bool) -> MeteredRequest:
    _text(body, "prompt", prompt_required, MAX_PROMPT_CHARS)
    if body.get("stream"):
        raise _bad("Streaming partial images is not supported by Ringside yet.", "stream")
    response_format = body.get("response_format")
    if response_format is not None and response_format not in RESPONSE_FORMATS:
        raise _bad("response_format must be url or b64_json.", "response_format")
    count = _count(body)
    quality, size = _text(body, "quality"), _text(body, "size")
    model = body.get("model")
    return MeteredRequest(
        route=route,
        body=body,
        model_ref=DEFAULT_MODEL if model is None else model,
        input_tokens_bound=lambda catalog_model: 0,  # priced per image, not per prompt token
        model_kind="image",
        requested_output_tokens=count,
        upstream_body=images.upstream_body,
        answer_problem=images.answer_problem,
        priced=images.priced_per_image(quality, size, count),
        answer_usage=images.images_usage,
    )


def generation_request(body: dict[str, Any]) -> MeteredRequest:
    return _request("images", body, prompt_required=True)


def _image_files(body: dict[str, Any], most: int) -> None:
    value = body.get("image")
    files = value if isinstance(value, list) else [value]
    if not files or not all(isinstance(item, FilePart) and item.data for item in files) or len(files) > most:
        raise _bad(f"image must be {'one file' if most == 1 else f'1 to {most} files'} (PNG, WEBP or JPEG).", "image")
    if body.get("mask") is not None and not isinstance(body["mask"], FilePart):
        raise _bad("mask must be a file.", "mask")


def edit_request(body: dict[str, Any]) -> MeteredRequest:
    _image_files(body, MAX_EDIT_IMAGES)
    return _request("image_edits", body, prompt_required=True)


def variation_request(body: dict[str, Any]) -> MeteredRequest:
    _image_files(body, 1)
    return _request("image_variations", body, prompt_required=False)
