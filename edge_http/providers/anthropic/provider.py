"""The Anthropic provider: OpenAI requests in, Anthropic's Messages API on the wire, OpenAI out.

Wire habits follow the `anthropic` SDK (2.14): `Authorization: Bearer <key>` and the
`anthropic-version` it sends.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson

from edge_http.openai.sse import frames
from edge_http.providers.anthropic import request, response
from edge_http.providers.anthropic.stream import StreamTranslator
from edge_http.providers.openai_compat import HttpUpstreamResponse, OpenAICompatProvider
from ringside.errors import RingsideError

ANTHROPIC_VERSION = "2026-10-21"
DEFAULT_MAX_TOKENS = 4096


class AnthropicResponse:
    """An Anthropic answer, read as the OpenAI answer it translates to."""

    def __init__(self, upstream: HttpUpstreamResponse, streaming: bool) -> None:
        self._upstream = upstream
        self._streaming = streaming
        self.status = 503 if upstream.status == response.OVERLOADED else upstream.status

    def content_type(self) -> str:
        return "text/event-stream" if self._streaming and self.status < 400 else "application/json"

    def header(self, name: str) -> str | None:
        return self._upstream.header(name)

    async def read(self, limit_bytes: int) -> bytes:
        payload = await self._upstream.read(limit_bytes)
        if self._upstream.status >= 400:
            _, envelope = response.error(payload, self._upstream.status)
            return orjson.dumps(envelope)
        try:
            message = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise RingsideError("upstream_error", "The provider's answer was not JSON.") from None
        if not isinstance(message, dict):
            raise RingsideError("upstream_error", "The provider's answer was not a message.")
        return orjson.dumps(response.completion(message))

    async def lines(self) -> AsyncIterator[bytes]:
        translator = StreamTranslator()
        async for frame in frames(self._upstream.lines()):
            data = [line[5:].strip() for line in frame.splitlines() if line.startswith(b"data:")]
            if not data:
                continue
            for out in translator.event(b"\n".join(data)):
                yield out[:-1]  # as lines, the way the edge reads an upstream: the frame, then its blank line
                yield b"\n"

    def close(self) -> None:
        self._upstream.close()


class AnthropicProvider:
    """`http` carries the connection (base URL, key as a Bearer token, timeouts); this adds the
    translation and the `anthropic-version` header."""

    def __init__(self, http: OpenAICompatProvider, base_url: str, max_output_tokens: Mapping[str, int]) -> None:
        self.id = http.id
        self._http = http
        self._http.headers["anthropic-version"] = ANTHROPIC_VERSION
        url = base_url.rstrip("/")
        self._url = url + ("/messages" if url.endswith("/v1") else "/v1/messages")
        self._max_output_tokens = max_output_tokens

    async def embeddings(self, body: dict[str, Any]) -> AnthropicResponse:
        raise RingsideError("invalid_request", "Anthropic has no embeddings API.", "model")

    async def chat_completions(self, body: dict[str, Any]) -> AnthropicResponse:
        model = str(body.get("model", ""))
        translated = request.translate(body, self._max_output_tokens.get(model) or DEFAULT_MAX_TOKENS)
        upstream = await self._http.post(self._url, translated)
        return AnthropicResponse(upstream, bool(body.get("stream")))
