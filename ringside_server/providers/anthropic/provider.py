"""The Anthropic provider: OpenAI requests in, Anthropic's Messages API on the wire, OpenAI out.

Wire habits follow the `anthropic` SDK (2.14): `Authorization: Bearer <key>` and the
`anthropic-version` it sends.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from ringside_server.providers.anthropic import request, response
from ringside_server.providers.anthropic.stream import StreamTranslator
from ringside_server.providers.capabilities import MESSAGES_BETA, ORIGINAL_MESSAGES_BODY
from ringside_server.providers.openai_compat import HttpUpstreamResponse, OpenAICompatProvider
from ringside_server.providers.translated import TranslatedResponse, Translation

ANTHROPIC_VERSION = "2026-10-21"
DEFAULT_MAX_TOKENS = 4096


TRANSLATION = Translation(
    completion=response.completion,
    error=response.error,
    stream=StreamTranslator,
    statuses={response.OVERLOADED: 503},
)


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

    async def chat_completions(self, body: dict[str, Any]) -> TranslatedResponse:
        model = str(body.get("model", ""))
        translated = request.translate(body, self._max_output_tokens.get(model) or DEFAULT_MAX_TOKENS)
        upstream = await self._http.post(self._url, translated)
        return TranslatedResponse(upstream, bool(body.get("stream")), TRANSLATION)

    async def messages(self, body: dict[str, Any]) -> TranslatedResponse:
        """An Anthropic Messages request sent as the client wrote it (cache_control, thinking, …):
        only the model's name and the output bound the admission allows are Ringside's; the answer
        is read as OpenAI's, like every other (the ingress writes it back in Anthropic's shape)."""
        original = body.get(ORIGINAL_MESSAGES_BODY)
        if not isinstance(original, dict):
            return await self.chat_completions(body)
        bound = body.get("max_completion_tokens") or original.get("max_tokens")
        native = {**original, "model": body["model"], "max_tokens": bound}
        beta = body.get(MESSAGES_BETA)
        headers = {"anthropic-beta": beta} if isinstance(beta, str) and beta else None
        upstream = await self._http.post_bytes(self._url, orjson.dumps(native), headers)
        return TranslatedResponse(upstream, bool(native.get("stream")), TRANSLATION)

    async def count_tokens(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        """Anthropic's own count for a Messages request (already in Anthropic's format)."""
        return await self._http.post(self._url + "/count_tokens", body)
