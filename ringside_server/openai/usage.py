"""OpenAI's `usage` object → Ringside's disjoint token classes."""

from __future__ import annotations

from typing import Any

from ringside.core.v1 import common_pb2

MAX_TOKENS = 2**40  # far above any real call; keeps a broken upstream's numbers inside int64


def _int(value: Any) -> int:
    return min(value, MAX_TOKENS) if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _details(usage: dict[str, Any], name: str) -> dict[str, Any]:
    details = usage.get(name)
    return details if isinstance(details, dict) else {}


def token_counts(usage: Any) -> common_pb2.TokenCounts:
    if not isinstance(usage, dict):
        return common_pb2.TokenCounts()
    prompt_details = _details(usage, "prompt_tokens_details")
    completion_details = _details(usage, "completion_tokens_details")
    cached = _int(prompt_details.get("cached_tokens"))
    # Not OpenAI's own (it does not charge cache writes), but providers translated into its format
    # (Anthropic here; OpenRouter upstream) report the prompt tokens written to cache this way.
    written = _int(prompt_details.get("cache_write_tokens"))
    audio_in = _int(prompt_details.get("audio_tokens"))
    reasoning = _int(completion_details.get("reasoning_tokens"))
    audio_out = _int(completion_details.get("audio_tokens"))
    return common_pb2.TokenCounts(
        input_tokens=max(0, _int(usage.get("prompt_tokens")) - cached - written - audio_in),
        cached_input_tokens=cached,
        cache_write_tokens=written,
        audio_input_tokens=audio_in,
        output_tokens=max(0, _int(usage.get("completion_tokens")) - reasoning - audio_out),
        reasoning_tokens=reasoning,
        audio_output_tokens=audio_out,
    )
