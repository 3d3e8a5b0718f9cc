"""A native provider's answer read as the OpenAI answer it translates to: the edge's relay and
metering only ever see OpenAI's wire format, whatever the provider speaks."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from typing import Any, Protocol

import orjson

from ringside_server.errors import RingsideError
from ringside_server.openai.sse import frames
from ringside_server.providers.openai_compat import HttpUpstreamResponse


def json_object(data: bytes) -> dict[str, Any] | None:
    """An upstream event's data as a JSON object; None for anything else (skipped)."""
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None


def error_envelope(payload: bytes, status: int, type_field: str, types: dict[str, tuple[str, str]]) -> dict[str, Any]:
    """OpenAI's error envelope for a provider's `{"error": {...}}` body: its `type_field` (Anthropic's
    `type`, Google's `status`) looked up in `types` → (OpenAI type, code); its message kept."""
    try:
        parsed = orjson.loads(payload)
    except orjson.JSONDecodeError:
        parsed = None
    detail = parsed.get("error") if isinstance(parsed, dict) else None
    detail = detail if isinstance(detail, dict) else {}
    kind, code = types.get(str(detail.get(type_field)), ("api_error", "upstream_error"))
    message = str(detail.get("message") or f"The provider answered {status}.")[:2000]
    return {"error": {"message": message, "type": kind, "param": None, "code": code}}


class StreamTranslator(Protocol):
    def event(self, data: bytes) -> list[bytes]:
        """OpenAI SSE frames (each ending in a blank line) for one upstream event's data."""

    def end(self) -> list[bytes]:
        """Frames once the upstream's stream has ended (usage and [DONE], if it ended well)."""


@dataclass(frozen=True, slots=True)
class Translation:
    completion: Callable[[dict[str, Any]], dict[str, Any]]  # the provider's answer → chat.completion
    error: Callable[[bytes, int], tuple[int, dict[str, Any]]]  # its error body → (status, envelope)
    stream: Callable[[], StreamTranslator] | None  # None: the response class reads its stream itself
    statuses: dict[int, int]  # the provider's own statuses → OpenAI's (Anthropic's 529 → 503)


class TranslatedResponse:
    def __init__(self, upstream: HttpUpstreamResponse, streaming: bool, translation: Translation) -> None:
        self._upstream = upstream
        self._streaming = streaming
        self._translation = translation
        self.status = translation.statuses.get(upstream.status, upstream.status)

    def content_type(self) -> str:
        return "text/event-stream" if self._streaming and self.status < 400 else "application/json"

    def header(self, name: str) -> str | None:
        return self._upstream.header(name)

    async def read(self, limit_bytes: int) -> bytes:
        payload = await self._upstream.read(limit_bytes)
        if self._upstream.status >= 400:
            return orjson.dumps(self.error_envelope(payload))
        try:
            answer = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise RingsideError("upstream_error", "The provider's answer was not JSON.") from None
        if not isinstance(answer, dict):
            raise RingsideError("upstream_error", "The provider's answer was not an object.")
        return orjson.dumps(self._translation.completion(answer))

    def error_envelope(self, payload: bytes) -> dict[str, Any]:
        return self._translation.error(payload, self._upstream.status)[1]

    async def lines(self) -> AsyncIterator[bytes]:
        assert self._translation.stream is not None
        translator = self._translation.stream()
        async for frame in frames(self._upstream.lines()):
            data = [line[5:].strip() for line in frame.splitlines() if line.startswith(b"data:")]
            if not data:
                continue
            for out in translator.event(b"\n".join(data)):
                yield out[:-1]  # as lines, the way the edge reads an upstream: the frame, then its blank line
                yield b"\n"
        for out in translator.end():
            yield out[:-1]
            yield b"\n"

    def close(self) -> None:
        self._upstream.close()
