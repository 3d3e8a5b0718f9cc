"""OpenAI's `usage` object → Ringside's disjoint token classes."""

from __future__ import annotations

from typing import Any

from ringside.core.v1 import common_pb2


def _int(value: Any) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def token_counts(usage: Any) -> common_pb2.TokenCounts:
    if not isinstance(usage, dict):
        return common_pb2.TokenCounts()
    prompt_details = usage.get("prompt_tokens_details") or {}
    completion_details = usage.get("completion_tokens_details") or {}
    cached = _int(prompt_details.get("cached_tokens"))
    audio_in = _int(prompt_details.get("audio_tokens"))
    reasoning = _int(completion_details.get("reasoning_tokens"))
    audio_out = _int(completion_details.get("audio_tokens"))
    return common_pb2.TokenCounts(
        input_tokens=max(0, _int(usage.get("prompt_tokens")) - cached - audio_in),
        cached_input_tokens=cached,
        audio_input_tokens=audio_in,
        output_tokens=max(0, _int(usage.get("completion_tokens")) - reasoning - audio_out),
        reasoning_tokens=reasoning,
        audio_output_tokens=audio_out,
    )
