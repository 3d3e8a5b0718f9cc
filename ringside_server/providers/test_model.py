"""The built-in test model: answers in OpenAI's exact wire format, streaming or not, with usage. It
serves every call of a test key (whatever model ref was asked, metered at that ref's price) and
`fc:ringside/test`, so everything can be tried offline — and it refuses what OpenAI refuses
(test_checks.py) and honours what a model honours (test_answers.py), so code that passes against
it passes live. docs/test-mode.md says what it can and cannot mimic."""

from __future__ import annotations

import hashlib
import math
import re
import time
import uuid
from typing import Any

import orjson

from ringside_server.openai import embeddings, moderations
from ringside_server.openai.estimate import text_parts
from ringside_server.providers import test_answers
from ringside_server.providers.base import BufferedResponse
from ringside_server.providers.catalog.load import CatalogModel
from ringside_server.providers.test_answers import REPLY, Choice
from ringside_server.providers.test_checks import Refusal, check_chat, check_embeddings, check_moderations
from ringside_server.providers.test_media import TestMedia

__all__ = ["REPLY", "TestModelProvider", "TestModelResponse"]

DEFAULT_DIMENSIONS = 16  # an embedding model whose catalog entry gives no dimension (fc:ringside/test…)
MAX_DIMENSIONS = 4096
_WORD = re.compile(r"\w+")


def _prompt_tokens(messages: list[Any]) -> int:
    """≈ 4 bytes a token, plus OpenAI's per-message overhead; never above the pre-call bound."""
    total = 3
    for message in messages:
        total += 4 + sum(-(-len(part.encode()) // 4) for part in text_parts(message))
    return total


class TestModelResponse(BufferedResponse):
    """The test model's answer; a refusal is a provider's own 400, as OpenAI would answer."""

    __test__ = False  # not a pytest class, whatever its name

    @classmethod
    def refused(cls, refusal: Refusal) -> TestModelResponse:
        return cls(orjson.dumps(refusal.body()), None, 400)


class TestModelProvider(TestMedia):
    """The test model; `serving(model)` is the one that answers for a resolved catalog model (its
    capabilities, output bound and embedding dimension). Images, speech and transcripts: TestMedia."""

    id = "ringside"
    __test__ = False  # not a pytest class, whatever its name

    def __init__(self, model: CatalogModel | None = None) -> None:
        self.model = model

    def serving(self, model: CatalogModel) -> TestModelProvider:
        return TestModelProvider(model)

    async def embeddings(self, body: dict[str, Any]) -> TestModelResponse:
        """Vectors of the model's catalog dimension (or the asked `dimensions`), unit length, made by
        hashing each input's words and character trigrams into the vector, so texts that share
        words point the same way; usage ≈ 4 bytes a token."""
        native = (self.model.dimensions if self.model is not None else 0) or DEFAULT_DIMENSIONS
        try:
            check_embeddings(body, self.model, native)
        except Refusal as refusal:
            return TestModelResponse.refused(refusal)
        items = embeddings.as_items(body.get("input"))
        dimensions = min(body.get("dimensions") or native, MAX_DIMENSIONS)
        data = []
        for index, item in enumerate(items):
            encoded = embeddings.encode(_vector(item, dimensions), str(body.get("encoding_format", "float")))
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = -(-embeddings.tokens_bound(items) // 4)
        answer = {
            "object": "list",
            "data": data,
            "model": str(body.get("model", "test")),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return TestModelResponse(orjson.dumps(answer), None)

    async def moderations(self, body: dict[str, Any]) -> BufferedResponse:
        """A result per input that flags nothing (OpenAI's shape; moderation models are free)."""
        try:
            check_moderations(body)
        except Refusal as refusal:
            return TestModelResponse.refused(refusal)
        results = [moderations.quiet_result(parts) for parts in moderations.inputs_of(body.get("input"))]
        answer = {"id": "modr-" + uuid.uuid4().hex, "model": str(body.get("model", "test")), "results": results}
        return BufferedResponse(orjson.dumps(answer), None)

    async def chat_completions(self, body: dict[str, Any]) -> TestModelResponse:
        try:
            check_chat(body, self.model)
        except Refusal as refusal:
            return TestModelResponse.refused(refusal)
        messages = body.get("messages") or []
        model = str(body.get("model", "test"))
        identity = {"id": "chatcmpl-" + test_answers.random_id(29), "created": int(time.time()), "model": model}
        limit = (
            body.get("max_completion_tokens")
            or body.get("max_tokens")
            or (self.model.max_output_tokens if self.model is not None and self.model.max_output_tokens else 4096)
        )
        made = test_answers.choices(body, int(limit))
        top = (body.get("top_logprobs") or 0) if body.get("logprobs") else None  # None: no logprobs
        completion_tokens = sum(choice.completion_tokens for choice in made)
        usage = {
            "prompt_tokens": _prompt_tokens(messages),
            "completion_tokens": completion_tokens,
            "total_tokens": _prompt_tokens(messages) + completion_tokens,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        if not body.get("stream"):
            completion = {
                "id": identity["id"],
                "object": "chat.completion",
                "created": identity["created"],
                "model": model,
                "choices": [_choice(index, choice, top) for index, choice in enumerate(made)],
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": "fp_ringside_test",
            }
            return TestModelResponse(orjson.dumps(completion), None)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return TestModelResponse(b"", _stream_frames(identity, made, top, usage, include_usage))


def _vector(item: str | list[int], dimensions: int) -> list[float]:
    """Feature hashing: each word and character trigram adds ±1 at a hashed position; unit length."""
    if isinstance(item, str):
        lowered = item.lower()
        words = _WORD.findall(lowered)
        features = words + [lowered[i : i + 3] for i in range(max(0, len(lowered) - 2))]
    else:
        features = [str(token) for token in item]
    vector = [0.0] * dimensions
    for feature in features or [""]:
        digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
        position = int.from_bytes(digest[:4], "little") % dimensions
        vector[position] += 1.0 if digest[4] & 1 else -1.0
    norm = math.sqrt(sum(value * value for value in vector)) or 1.0
    return [value / norm for value in vector]


def _message(choice: Choice) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": None, "refusal": None, "annotations": []}
    if choice.tool_call is None:
        message["content"] = choice.text
    else:
        call = choice.tool_call
        arguments = "".join(call.arguments)
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": arguments}}
        ]
    return message


def _choice(index: int, choice: Choice, top: int | None) -> dict[str, Any]:
    logprobs = test_answers.logprobs(choice.tokens, top) if top is not None and choice.tool_call is None else None
    return {"index": index, "message": _message(choice), "logprobs": logprobs, "finish_reason": choice.finish_reason}


def _stream_frames(
    identity: dict[str, Any], made: list[Choice], top: int | None, usage: dict[str, Any], include_usage: bool
) -> list[bytes]:
    def chunk(choice_list: list[dict[str, Any]], usage_value: Any = None) -> bytes:
        payload: dict[str, Any] = {
            "id": identity["id"],
            "object": "chat.completion.chunk",
            "created": identity["created"],
            "model": identity["model"],
            "service_tier": "default",
            "system_fingerprint": "fp_ringside_test",
            "choices": choice_list,
        }
        if include_usage:
            payload["usage"] = usage_value
        return b"data: " + orjson.dumps(payload) + b"\n\n"

    def delta(index: int, content: dict[str, Any], finish_reason: str | None = None, token: str = "") -> dict[str, Any]:
        logprobs = test_answers.logprobs([token], top) if top is not None and token else None
        return {"index": index, "delta": content, "logprobs": logprobs, "finish_reason": finish_reason}

    frames = []
    for index, choice in enumerate(made):
        call = choice.tool_call
        if call is None:
            frames.append(chunk([delta(index, {"role": "assistant", "content": "", "refusal": None})]))
            frames += [chunk([delta(index, {"content": token}, token=token)]) for token in choice.tokens]
        else:
            opening = {"index": 0, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
            frames.append(chunk([delta(index, {"role": "assistant", "content": None, "tool_calls": [opening]})]))
            frames += [
                chunk([delta(index, {"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})])
                for piece in call.arguments
            ]
        frames.append(chunk([delta(index, {}, choice.finish_reason)]))
    if include_usage:
        frames.append(chunk([], usage))
    frames.append(b"data: [DONE]\n\n")
    return frames
