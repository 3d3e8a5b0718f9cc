"""POST /v1/audio/speech (JSON), /transcriptions and /translations (multipart): the fields Ringside
reads; the rest (instructions, temperature, timestamp_granularities, …) is relayed as it came."""

from __future__ import annotations

from typing import Any, Literal, Required, TypedDict

from ringside_server.errors import RingsideError
from ringside_server.metering.request import MeteredRequest
from ringside_server.openai import audio
from ringside_server.openai.multipart import FilePart
from ringside_server.providers.capabilities import Route

MAX_SPEECH_CHARS = 4096  # OpenAI's limit
SPEECH_FORMATS = ("mp3", "opus", "aac", "flac", "wav", "pcm")
TRANSCRIPT_FORMATS = ("json", "text", "srt", "verbose_json", "vtt")
MAX_PROMPT_CHARS = 32_000


class SpeechRequest(TypedDict, total=False):
    model: Required[str]
    input: Required[str]
    voice: Required[str]
    response_format: Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
    speed: float


def _bad(message: str, param: str) -> RingsideError:
    return RingsideError("invalid_request", message, param)


def speech_request(body: dict[str, Any]) -> MeteredRequest:
    text = body.get("input")
    if not isinstance(text, str) or not text or len(text) > MAX_SPEECH_CHARS:
        raise _bad(f"input must be a non-empty string of at most {MAX_SPEECH_CHARS} characters.", "input")
    if not isinstance(body.get("voice"), str | dict) or not body["voice"]:
        raise _bad("voice is required.", "voice")
    if body.get("response_format", "mp3") not in SPEECH_FORMATS:
        raise _bad(f"response_format must be one of {', '.join(SPEECH_FORMATS)}.", "response_format")
    speed = body.get("speed", 1.0)
    if isinstance(speed, bool) or not isinstance(speed, int | float) or not 0.25 <= speed <= 4.0:
        raise _bad("speed must be a number between 0.25 and 4.0.", "speed")
    if body.get("stream_format", "audio") != "audio":
        raise _bad("Only stream_format 'audio' is supported by Ringside yet.", "stream_format")
    characters = len(text)
    return MeteredRequest(
        route="speech",
        body=body,
        model_ref=body.get("model"),
        input_tokens_bound=lambda model: characters,  # priced per input character
        model_kind="speech",
        answer_usage=audio.speech_usage(characters),
        byte_stream=True,
    )


def _transcript_problem(answer: Any) -> str | None:
    if not isinstance(answer, dict) or not isinstance(answer.get("text"), str):
        return "The provider's answer was not a transcription."
    return None


def _transcript_request(route: Route, body: dict[str, Any]) -> MeteredRequest:
    upload = body.get("file")
    if not isinstance(upload, FilePart) or not upload.data:
        raise _bad("file must be one audio file (flac, mp3, mp4, mpeg, mpga, m4a, ogg, wav or webm).", "file")
    if body.get("response_format", "json") not in TRANSCRIPT_FORMATS:
        raise _bad(f"response_format must be one of {', '.join(TRANSCRIPT_FORMATS)}.", "response_format")
    stream = str(body.get("stream", "false")).lower() == "true"
    prompt = body.get("prompt", "")
    if not isinstance(prompt, str) or len(prompt) > MAX_PROMPT_CHARS:
        raise _bad(f"prompt must be a string of at most {MAX_PROMPT_CHARS} characters.", "prompt")
    size = len(upload.data)
    return MeteredRequest(
        route=route,
        body=body,
        model_ref=body.get("model"),
        input_tokens_bound=audio.transcription_bound(size, len(prompt)),
        model_kind="transcription",
        upstream_body=audio.transcription_upstream,
        answer_problem=_transcript_problem,
        answer_usage=audio.transcription_usage(size),
        stream=stream,
        event_usage=audio.done_usage if stream else None,
        priced=audio.streamable if stream else lambda model: model,
    )


def transcription_request(body: dict[str, Any]) -> MeteredRequest:
    return _transcript_request("transcriptions", body)


def translation_request(body: dict[str, Any]) -> MeteredRequest:
    return _transcript_request("translations", body)
