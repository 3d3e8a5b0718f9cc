"""The built-in test model's media routes (beside test_model.py's chat and embeddings): images
drawn deterministically from the request (a small PNG whose colour is the prompt's hash), in
OpenAI's exact answer shapes, so image (and audio) code can be tried offline under a test key."""

from __future__ import annotations

import base64
import hashlib
import struct
import time
import zlib
from collections.abc import AsyncIterator
from typing import Any

import orjson

from ringside_server.openai.multipart import FilePart

IMAGE_SIDE_PX = 8
CHUNK_BYTES = 16 * 1024


def png(seed: bytes) -> bytes:
    """An 8x8 RGB PNG in the colour of `seed`'s hash: valid, tiny, the same for the same seed."""
    red, green, blue = hashlib.sha256(seed).digest()[:3]
    row = b"\x00" + bytes((red, green, blue)) * IMAGE_SIDE_PX
    pixels = zlib.compress(row * IMAGE_SIDE_PX)

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", IMAGE_SIDE_PX, IMAGE_SIDE_PX, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", pixels) + chunk(b"IEND", b"")


def _seed(body: dict[str, Any]) -> bytes:
    """What the image depends on: the prompt and the uploaded files' bytes."""
    parts = [str(body.get("prompt", "")).encode(), str(body.get("model", "")).encode()]
    for value in body.values():
        for part in value if isinstance(value, list) else [value]:
            if isinstance(part, FilePart):
                parts.append(hashlib.sha256(part.data).digest())
    return b"\x00".join(parts)


def _images_answer(body: dict[str, Any]) -> dict[str, Any]:
    """gpt-image-1 always answers base64; DALL·E answers a URL unless asked for b64_json (the test
    model's URL is a data: URL, so it needs no server)."""
    count = int(body.get("n") or 1)
    model = str(body.get("model", ""))
    as_base64 = model.startswith("gpt-image") or body.get("response_format") == "b64_json"
    data = []
    for index in range(count):
        encoded = base64.b64encode(png(_seed(body) + bytes([index]))).decode()
        image: dict[str, Any] = {"b64_json": encoded} if as_base64 else {"url": "data:image/png;base64," + encoded}
        if model == "dall-e-3":
            image["revised_prompt"] = str(body.get("prompt", ""))
        data.append(image)
    return {"created": int(time.time()), "data": data}


class MediaResponse:
    """A complete answer of any content type (JSON, or audio bytes), as UpstreamResponse reads it."""

    def __init__(self, body: bytes, content_type: str) -> None:
        self.status = 200
        self._body = body
        self._content_type = content_type

    def content_type(self) -> str:
        return self._content_type

    def header(self, name: str) -> str | None:
        return None

    async def read(self, limit_bytes: int) -> bytes:
        return self._body

    async def lines(self) -> AsyncIterator[bytes]:
        for line in self._body.splitlines(keepends=True):
            yield line

    async def chunks(self) -> AsyncIterator[bytes]:
        for start in range(0, len(self._body), CHUNK_BYTES):
            yield self._body[start : start + CHUNK_BYTES]

    def close(self) -> None:
        self._body = b""


SAMPLE_RATE_HZ = 24_000  # OpenAI's speech PCM: 24 kHz, 16-bit, mono
SAMPLES_PER_CHARACTER = 1_200  # 50 ms of audio a character
AUDIO_TYPES = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
TRANSCRIPT = "This is Ringside's test transcript; it never leaves this machine."


def speech(text: str, voice: str, response_format: str) -> bytes:
    """Deterministic audio for `text`: a real WAV (or raw PCM) of a tone per character; other formats
    carry the same PCM behind a marker (the test model encodes nothing)."""
    samples = bytearray()
    for character in text[:4096]:
        level = (hashlib.sha256((voice + character).encode()).digest()[0] - 128) * 64
        samples += struct.pack("<h", level) * SAMPLES_PER_CHARACTER
    if response_format == "pcm":
        return bytes(samples)
    if response_format != "wav":
        return b"RINGSIDE-TEST-" + response_format.encode() + b"\n" + bytes(samples)
    header = struct.pack(
        "<4sI4s4sIHHIIHH4sI",
        b"RIFF", 36 + len(samples), b"WAVE", b"fmt ", 16, 1, 1, SAMPLE_RATE_HZ, SAMPLE_RATE_HZ * 2, 2, 16,
        b"data", len(samples),
    )  # fmt: skip
    return header + bytes(samples)


def _transcript(body: dict[str, Any], task: str) -> dict[str, Any]:
    """OpenAI's transcription answer: `json`, or `verbose_json` with one segment; usage by the
    second (whisper-1) or by the token (the gpt-4o transcribe models)."""
    upload = body.get("file")
    size = len(upload.data) if isinstance(upload, FilePart) else 0
    seconds = max(1, size // 32_000)  # as if 16 kHz 16-bit PCM
    model = str(body.get("model", ""))
    if model.startswith("whisper"):
        usage: dict[str, Any] = {"type": "duration", "seconds": seconds}
    else:
        audio_tokens = seconds * 10
        usage = {
            "type": "tokens",
            "input_tokens": audio_tokens,
            "input_token_details": {"text_tokens": 0, "audio_tokens": audio_tokens},
            "output_tokens": len(TRANSCRIPT) // 4,
            "total_tokens": audio_tokens + len(TRANSCRIPT) // 4,
        }
    if body.get("response_format") != "verbose_json":
        return {"text": TRANSCRIPT, "usage": usage}
    segment = {
        "id": 0, "seek": 0, "start": 0.0, "end": float(seconds), "text": TRANSCRIPT, "tokens": [],
        "temperature": 0.0, "avg_logprob": -0.1, "compression_ratio": 1.0, "no_speech_prob": 0.0,
    }  # fmt: skip
    language = "english" if task == "translate" else str(body.get("language") or "english")
    return {
        "task": task,
        "language": language,
        "duration": float(seconds),
        "text": TRANSCRIPT,
        "segments": [segment],
        "usage": usage,
    }


def transcript_events(answer: dict[str, Any]) -> bytes:
    """OpenAI's streamed transcription: a `transcript.text.delta` a word, then `transcript.text.done`
    with the text and the usage."""
    words = str(answer["text"]).split(" ")
    deltas = [{"type": "transcript.text.delta", "delta": w if i == 0 else " " + w} for i, w in enumerate(words)]
    done = {"type": "transcript.text.done", "text": answer["text"], "usage": answer["usage"]}
    return b"".join(b"data: " + orjson.dumps(event) + b"\n\n" for event in [*deltas, done])


class TestMedia:
    """Mixed into the test model: its image and audio routes."""

    async def audio_speech(self, body: dict[str, Any]) -> MediaResponse:
        response_format = str(body.get("response_format") or "mp3")
        audio = speech(str(body.get("input", "")), str(body.get("voice", "")), response_format)
        return MediaResponse(audio, AUDIO_TYPES.get(response_format, "application/octet-stream"))

    async def audio_transcriptions(self, body: dict[str, Any]) -> MediaResponse:
        answer = _transcript(body, "transcribe")
        if str(body.get("stream", "")).lower() != "true":
            return _answer(answer)
        return MediaResponse(transcript_events(answer), "text/event-stream")

    async def audio_translations(self, body: dict[str, Any]) -> MediaResponse:
        return _answer(_transcript(body, "translate"))

    async def images_generations(self, body: dict[str, Any]) -> MediaResponse:
        return _answer(_images_answer(body))

    async def images_edits(self, body: dict[str, Any]) -> MediaResponse:
        return _answer(_images_answer(body))

    async def images_variations(self, body: dict[str, Any]) -> MediaResponse:
        return _answer(_images_answer(body))


def _answer(answer: dict[str, Any]) -> MediaResponse:
    return MediaResponse(orjson.dumps(answer), "application/json")
