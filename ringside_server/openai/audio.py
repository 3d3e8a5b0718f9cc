"""OpenAI's audio routes as metered calls.

Speech is priced per input character (`input`: USD per 1M characters, OpenAI's tts-1 pricing), a
count known before the call. Transcriptions and translations are priced as the model is: per second
of audio (`audio_input`: USD per 1M seconds, whisper-1's $0.006 a minute) from the answer's
`usage.seconds` (or `duration`), or per token (gpt-4o-transcribe: audio and text input, text
output) from its token `usage`. Before the call the audio's length is bounded from its size: no
encoding OpenAI accepts goes below 4 kbit/s, so a file lasts at most bytes / 500 seconds, and a
second is at most 10 audio tokens.

Ringside asks the upstream for JSON whatever format the client asked for (`text`, `srt`, `vtt` are
rendered from it, see transcript_formats.py), so every answer reports what it costs.
"""

from __future__ import annotations

from typing import Any

from ringside_server.errors import RingsideError
from ringside_server.providers.catalog.load import CatalogModel

BYTES_PER_SECOND_FLOOR = 500  # 4 kbit/s
AUDIO_TOKENS_PER_SECOND = 10
JSON_FORMATS = {"json": "json", "text": "json", "srt": "verbose_json", "vtt": "verbose_json"}


def per_second(model: CatalogModel) -> bool:
    """A transcription model priced by the second (whisper-1) rather than by the token."""
    return model.prices["output"] == 0 and model.prices["input"] == 0


def seconds_bound(file_bytes: int) -> int:
    return max(1, -(-file_bytes // BYTES_PER_SECOND_FLOOR))


def transcription_bound(file_bytes: int, prompt_chars: int) -> Any:
    """The request's input bound for a model: seconds, or audio tokens plus the prompt's."""

    def bound(model: CatalogModel) -> int:
        seconds = seconds_bound(file_bytes)
        return seconds if per_second(model) else seconds * AUDIO_TOKENS_PER_SECOND + prompt_chars * 4

    return bound


def transcription_usage(file_bytes: int) -> Any:
    """The answer's usage in OpenAI's chat `usage` shape: seconds as audio input units, or tokens."""

    def usage(answer: Any, model: CatalogModel) -> dict[str, Any]:
        reported = answer.get("usage") if isinstance(answer, dict) else None
        reported = reported if isinstance(reported, dict) else {}
        if reported.get("type") == "tokens":
            details = reported.get("input_token_details")
            details = details if isinstance(details, dict) else {}
            audio = _count(details.get("audio_tokens"))
            return {
                "prompt_tokens": _count(reported.get("input_tokens")),
                "completion_tokens": _count(reported.get("output_tokens")),
                "prompt_tokens_details": {"audio_tokens": audio},
            }
        seconds = _seconds(reported.get("seconds"))
        if seconds is None and isinstance(answer, dict):
            seconds = _seconds(answer.get("duration"))
        if seconds is None:  # nothing reported: the bound held for it
            seconds = seconds_bound(file_bytes)
        units = seconds if per_second(model) else seconds * AUDIO_TOKENS_PER_SECOND
        return {"prompt_tokens": units, "completion_tokens": 0, "prompt_tokens_details": {"audio_tokens": units}}

    return usage


def _count(value: Any) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _seconds(value: Any) -> int | None:
    """Whole seconds, rounded up (OpenAI bills whisper by the second)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
        return None
    return int(-(-value // 1))


def done_usage(event: Any) -> Any:
    """The usage a transcription stream's `transcript.text.done` event carries (None otherwise)."""
    if isinstance(event, dict) and event.get("type") == "transcript.text.done":
        return event.get("usage")
    return None


def streamable(model: CatalogModel) -> CatalogModel:
    """A streamed transcription needs a model that streams (OpenAI: not whisper-1)."""
    if per_second(model):
        raise RingsideError("invalid_request", f"'{model.ref}' does not stream transcriptions.", "stream")
    return model


def speech_usage(characters: int) -> Any:
    def usage(answer: Any, model: CatalogModel) -> dict[str, int]:
        return {"prompt_tokens": characters, "completion_tokens": 0}

    return usage


def transcription_upstream(body: dict[str, Any], model: CatalogModel, max_output: int, limited: bool) -> dict[str, Any]:
    """The provider's model name, and always a JSON answer (which says what the call cost)."""
    wanted = str(body.get("response_format") or "json")
    upstream = {**body, "model": model.name, "response_format": JSON_FORMATS.get(wanted, wanted)}
    return upstream
