"""The built-in test model: deterministic text in OpenAI's exact wire format, streaming or not, with
usage. It serves every call of a test key (whatever model ref was asked, metered at that ref's
price) and `fc:ringside/test`, so everything can be tried offline."""

from __future__ import annotations

import hashlib
import time
import uuid
from typing import Any

import orjson

from ringside_server.openai import embeddings, moderations
from ringside_server.openai.estimate import text_parts
from ringside_server.providers.base import BufferedResponse

TEST_DIMENSIONS = 16

REPLY = [
    "This",
    "is",
    "Ringside's",
    "test",
    "model",
    ".",
    "The",
    "answer",
    "is",
    "deterministic",
    ",",
    "metered",
    "at",
    "the",
    "price",
    "of",
    "the",
    "model",
    "you",
    "asked",
    "for",
    ",",
    "and",
    "never",
    "leaves",
    "this",
    "machine",
    ".",
]


def _prompt_tokens(messages: list[Any]) -> int:
    """≈ 4 bytes a token, plus OpenAI's per-message overhead; never above the pre-call bound."""
    total = 3
    for message in messages:
        total += 4 + sum(-(-len(part.encode()) // 4) for part in text_parts(message))
    return total


class TestModelProvider:
    id = "ringside"

    async def embeddings(self, body: dict[str, Any]) -> BufferedResponse:
        """Deterministic unit-ish vectors from each input's hash; usage ≈ 4 bytes a token."""
        items = embeddings.as_items(body.get("input"))
        asked = body.get("dimensions")
        dimensions = asked if isinstance(asked, int) else TEST_DIMENSIONS
        data = []
        for index, item in enumerate(items):
            digest = hashlib.sha256(orjson.dumps(item)).digest()
            vector = [(digest[i % 32] - 128) / 128 for i in range(max(1, min(dimensions, 4096)))]
            encoded = embeddings.encode(vector, str(body.get("encoding_format", "float")))
            data.append({"object": "embedding", "index": index, "embedding": encoded})
        tokens = -(-embeddings.tokens_bound(items) // 4)
        answer = {
            "object": "list",
            "data": data,
            "model": str(body.get("model", "test")),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return BufferedResponse(orjson.dumps(answer), None)

    async def moderations(self, body: dict[str, Any]) -> BufferedResponse:
        """A result per input that flags nothing (OpenAI's shape; moderation models are free)."""
        results = [moderations.quiet_result(parts) for parts in moderations.inputs_of(body.get("input"))]
        answer = {"id": "modr-" + uuid.uuid4().hex, "model": str(body.get("model", "test")), "results": results}
        return BufferedResponse(orjson.dumps(answer), None)

    async def chat_completions(self, body: dict[str, Any]) -> BufferedResponse:
        messages = body.get("messages") or []
        model = str(body.get("model", "test"))
        digest = hashlib.sha256(orjson.dumps([model, messages], option=orjson.OPT_SORT_KEYS)).hexdigest()
        identity = {"id": "chatcmpl-" + digest[:24], "created": int(time.time()), "model": model}
        limit = body.get("max_completion_tokens") or body.get("max_tokens") or len(REPLY)
        words = REPLY[: max(0, min(int(limit), len(REPLY)))]
        finish = "stop" if len(words) == len(REPLY) else "length"
        choices = max(1, int(body.get("n") or 1))
        usage = {
            "prompt_tokens": _prompt_tokens(messages),
            "completion_tokens": len(words) * choices,
            "total_tokens": _prompt_tokens(messages) + len(words) * choices,
            "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
            "completion_tokens_details": {
                "reasoning_tokens": 0,
                "audio_tokens": 0,
                "accepted_prediction_tokens": 0,
                "rejected_prediction_tokens": 0,
            },
        }
        if not body.get("stream"):
            text = " ".join(words)
            completion = {
                "id": identity["id"],
                "object": "chat.completion",
                "created": identity["created"],
                "model": model,
                "choices": [
                    {
                        "index": i,
                        "message": {"role": "assistant", "content": text, "refusal": None, "annotations": []},
                        "logprobs": None,
                        "finish_reason": finish,
                    }
                    for i in range(choices)
                ],
                "usage": usage,
                "service_tier": "default",
                "system_fingerprint": "fp_ringside_test",
            }
            return BufferedResponse(orjson.dumps(completion), None)
        include_usage = bool((body.get("stream_options") or {}).get("include_usage"))
        return BufferedResponse(b"", _stream_frames(identity, words, finish, choices, usage, include_usage))


def _stream_frames(
    identity: dict[str, Any], words: list[str], finish: str, choices: int, usage: dict[str, Any], include_usage: bool
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

    def delta(index: int, content: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {"index": index, "delta": content, "logprobs": None, "finish_reason": finish_reason}

    frames = [chunk([delta(i, {"role": "assistant", "content": "", "refusal": None}) for i in range(choices)])]
    for position, word in enumerate(words):
        text = word if position == 0 else " " + word
        frames += [chunk([delta(i, {"content": text})]) for i in range(choices)]
    frames.append(chunk([delta(i, {}, finish) for i in range(choices)]))
    if include_usage:
        frames.append(chunk([], usage))
    frames.append(b"data: [DONE]\n\n")
    return frames
