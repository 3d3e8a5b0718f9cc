"""The Cohere provider: OpenAI requests in, Cohere's v2 chat on the wire (Bearer key), OpenAI out."""

from __future__ import annotations

from typing import Any

from ringside_server.providers.cohere import translate
from ringside_server.providers.openai_compat import OpenAICompatProvider
from ringside_server.providers.translated import TranslatedResponse, Translation

TRANSLATION = Translation(
    completion=translate.completion, error=translate.error, stream=translate.CohereStream, statuses={498: 401}
)


class CohereProvider:
    def __init__(self, http: OpenAICompatProvider, base_url: str) -> None:
        self.id = http.id
        self._http = http
        self._url = base_url.rstrip("/") + "/v2/chat"

    async def chat_completions(self, body: dict[str, Any]) -> TranslatedResponse:
        upstream = await self._http.post(self._url, translate.request(body))
        return TranslatedResponse(upstream, bool(body.get("stream")), TRANSLATION)
