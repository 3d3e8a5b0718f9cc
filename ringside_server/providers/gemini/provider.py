"""The Gemini provider: OpenAI requests in, Gemini's generateContent on the wire, OpenAI out.

Wire habits follow the `google-genai` SDK (3.6): `x-goog-api-key`, API version `v1`,
`models/{model}:generateContent` and `:streamGenerateContent?alt=sse`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from ringside_server.providers.gemini import request, response
from ringside_server.providers.openai_compat import OpenAICompatProvider
from ringside_server.providers.translated import TranslatedResponse, Translation

TRANSLATION = Translation(
    completion=response.completion, error=response.error, stream=response.GeminiStream, statuses={}
)


class GeminiProvider:
    def __init__(self, http: OpenAICompatProvider, base_url: str, api_key: str | None, api_version: str) -> None:
        self.id = http.id
        self._http = http
        if api_key:
            self._http.headers["x-goog-api-key"] = api_key
        self._base = f"{base_url.rstrip('/')}/{api_version or 'v1'}/models/"

    async def chat_completions(self, body: dict[str, Any]) -> TranslatedResponse:
        model = quote(str(body.get("model", "")), safe="")
        streaming = bool(body.get("stream"))
        url = self._base + model + (":streamGenerateContent?alt=sse" if streaming else ":generateContent")
        upstream = await self._http.post(url, request.translate(body))
        return TranslatedResponse(upstream, streaming, TRANSLATION)
