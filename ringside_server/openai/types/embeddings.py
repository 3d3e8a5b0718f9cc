"""POST /v1/embeddings: the body Ringside reads, with OpenAI's bounds."""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict, cast

from ringside_server.errors import RingsideError
from ringside_server.jsonio import parse_model_body
from ringside_server.metering.request import MeteredRequest
from ringside_server.openai.embeddings import tokens_bound
from ringside_server.openai.price_classes import TEXT_ONLY

MAX_INPUTS = 2048
MAX_TOKEN_ID = 2**31
MAX_ANSWER_BYTES = 256 * 1024 * 1024  # 2048 inputs × 3072 floats as JSON text
ENCODINGS = ("float", "base64")


class EmbeddingRequest(TypedDict, total=False):
    """The fields Ringside reads; the rest (dimensions, …) is relayed as it came."""

    model: str
    input: Required[str | list[str] | list[int] | list[list[int]]]
    encoding_format: Literal["float", "base64"]
    user: str


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


def _answer_problem(answer: Any) -> str | None:
    if not isinstance(answer, dict) or not isinstance(answer.get("data"), list):
        return "The provider's answer was not a list of embeddings."
    return None


def metered_request(raw: bytes, peer: bool) -> MeteredRequest:
    """The embeddings call as MeteredCall runs it; the answer is relayed as it came (float or base64)."""
    body = parse_model_body(raw)
    bound = tokens_bound(inputs(body))
    request = cast(EmbeddingRequest, body)
    return MeteredRequest(
        route="embeddings",
        body=body,
        model_ref=request.get("model"),
        input_tokens_bound=lambda model: bound,
        model_kind="embedding",
        price_classes=TEXT_ONLY,
        peer=peer,
        answer_problem=_answer_problem,
        max_answer_bytes=MAX_ANSWER_BYTES,
    )
