"""The fake OpenAI's audio routes, at OpenAI's wire shape: speech answers deterministic bytes of
the asked format (`audio/mpeg` for mp3); transcriptions and translations answer `json` or
`verbose_json` with OpenAI's `usage` (whisper-1 by the second: 7 s; others by the token), and
refuse text formats (Ringside always asks for JSON, which this fake checks)."""

from __future__ import annotations

import hashlib
from typing import Any

import orjson
from aiohttp import web

from tests.fakes import openai_wire as wire


def _refused(message: str) -> web.Response:
    return web.Response(status=400, body=wire.error_body(400, message), content_type="application/json")


SECONDS = 7
TEXT = "Bonjour, ceci est un faux enregistrement."
TYPES = {"mp3": "audio/mpeg", "opus": "audio/ogg", "aac": "audio/aac", "flac": "audio/flac", "wav": "audio/wav"}


def speech(body: Any) -> web.Response:
    if not isinstance(body, dict) or not isinstance(body.get("input"), str):
        return _refused("input is required.")
    fmt = str(body.get("response_format") or "mp3")
    audio = b"ID3" + hashlib.sha256(body["input"].encode()).digest() * 64
    return web.Response(body=audio, content_type=TYPES.get(fmt, "application/octet-stream"))


def transcript(form: dict[str, Any], task: str) -> web.Response:
    fmt = form.get("response_format", "json")
    if fmt not in ("json", "verbose_json"):
        return _refused("fake: ask for JSON.")
    if str(form.get("model", "")).startswith("whisper"):
        usage: dict[str, Any] = {"type": "duration", "seconds": SECONDS}
    else:
        usage = {
            "type": "tokens",
            "input_tokens": 80,
            "input_token_details": {"text_tokens": 10, "audio_tokens": 70},
            "output_tokens": 12,
            "total_tokens": 92,
        }
    answer: dict[str, Any] = {"text": TEXT, "usage": usage}
    if form.get("stream") == "true":  # OpenAI's streamed transcription (the gpt-4o transcribe models)
        events = [{"type": "transcript.text.delta", "delta": word + " "} for word in TEXT.split(" ")]
        events.append({"type": "transcript.text.done", "text": TEXT, "usage": usage})
        frames = b"".join(b"data: " + orjson.dumps(event) + b"\n\n" for event in events)
        return web.Response(body=frames, content_type="text/event-stream")
    if fmt == "verbose_json":
        segments = [
            {"id": 0, "seek": 0, "start": 0.0, "end": 3.5, "text": " Bonjour,", "tokens": [1], "temperature": 0.0,
             "avg_logprob": -0.2, "compression_ratio": 1.1, "no_speech_prob": 0.01},
            {"id": 1, "seek": 0, "start": 3.5, "end": 6.25, "text": " ceci est un faux enregistrement.", "tokens": [2],
             "temperature": 0.0, "avg_logprob": -0.2, "compression_ratio": 1.1, "no_speech_prob": 0.01},
        ]  # fmt: skip
        answer = {"task": task, "language": "french", "duration": 6.25, "text": TEXT, "segments": segments}
        answer["usage"] = usage
    return web.Response(body=orjson.dumps(answer), content_type="application/json")
