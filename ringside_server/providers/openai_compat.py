"""Any OpenAI-compatible upstream (OpenAI, vLLM, Ollama, LM Studio, …): base URL + optional key."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson
from aiohttp.http_exceptions import HttpProcessingError
from yarl import URL

from ringside_server.errors import RingsideError
from ringside_server.openai.multipart import form_data


class HttpUpstreamResponse:
    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response
        self.status = response.status

    def content_type(self) -> str:
        return self._response.headers.get("Content-Type", "application/json")

    def header(self, name: str) -> str | None:
        return self._response.headers.get(name)

    async def read(self, limit_bytes: int) -> bytes:
        chunks: list[bytes] = []
        size = 0
        try:
            async for chunk in self._response.content.iter_chunked(65_536):
                size += len(chunk)
                if size > limit_bytes:
                    raise RingsideError("upstream_error", "The provider's answer is too large.")
                chunks.append(chunk)
        except TimeoutError:
            raise RingsideError("upstream_timeout", "The provider did not answer in time.") from None
        except aiohttp.ClientError as error:
            raise RingsideError("upstream_error", f"The provider's answer broke off: {error}.") from None
        finally:
            self._response.release()
        return b"".join(chunks)

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body as it arrives (binary streams)."""
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except TimeoutError:
            raise RingsideError("upstream_timeout", "The provider stopped sending.") from None
        except aiohttp.ClientError as error:
            raise RingsideError("upstream_error", f"The provider's stream broke off: {error}.") from None

    async def lines(self) -> AsyncIterator[bytes]:
        try:
            async for line in self._response.content:
                yield line
        except HttpProcessingError as error:  # e.g. a line longer than aiohttp accepts
            raise RingsideError("upstream_error", f"The provider's stream was malformed: {error.message}.") from None
        except TimeoutError:
            raise RingsideError("upstream_timeout", "The provider stopped sending.") from None
        except aiohttp.ClientError as error:
            raise RingsideError("upstream_error", f"The provider's stream broke off: {error}.") from None

    def close(self) -> None:
        self._response.close()


class OpenAICompatProvider:
    """Speaks OpenAI's Chat Completions to `base_url`; the key is optional (local servers).

    Azure OpenAI (`api_version` set) differs only in the URL — one deployment per model, named by
    `deployments` (default: the model's own name), with `?api-version=` — and the `api-key` header.
    """

    def __init__(
        self,
        provider_id: str,
        base_url: str,
        api_key: str | None,
        session: aiohttp.ClientSession,
        timeout_s: float,
        connect_timeout_s: float,
        api_version: str = "",
        deployments: Mapping[str, str] | None = None,
    ) -> None:
        self.id = provider_id
        self._base_url = base_url.rstrip("/")
        self._api_version = api_version
        self._deployments = dict(deployments or {})
        self.headers = {"Content-Type": "application/json"}
        if api_key:
            self.headers.update({"api-key": api_key} if api_version else {"Authorization": f"Bearer {api_key}"})
        self._session = session
        # sock_read bounds the wait for each chunk, so a live stream is not cut off by a total.
        self._timeout = aiohttp.ClientTimeout(total=None, connect=connect_timeout_s, sock_read=timeout_s)

    @property
    def session(self) -> aiohttp.ClientSession:
        """Its connection pool (a forwarded batch's Files and Batch calls go through it too)."""
        return self._session

    @property
    def has_batch_api(self) -> bool:
        """OpenAI's own URL layout (an Azure deployment's batch routes differ: not forwarded)."""
        return not self._api_version

    def url(self, model: str, route: str) -> str:
        if not self._api_version:
            return f"{self._base_url}/{route}"
        deployment = quote(self._deployments.get(model, model), safe="")
        return f"{self._base_url}/openai/deployments/{deployment}/{route}?api-version={quote(self._api_version)}"

    async def chat_completions(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post(self.url(str(body.get("model", "")), "chat/completions"), body)

    async def responses(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        if not self._api_version:
            return await self.post(self.url(str(body.get("model", "")), "responses"), body)
        # Azure OpenAI serves Responses on its v1 API only: one path for every deployment, which
        # the body's `model` names (no api-version: v1 takes none)
        model = str(body.get("model", ""))
        return await self.post(
            f"{self._base_url}/openai/v1/responses", {**body, "model": self._deployments.get(model, model)}
        )

    async def embeddings(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post(self.url(str(body.get("model", "")), "embeddings"), body)

    async def moderations(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post(self.url(str(body.get("model", "")), "moderations"), body)

    async def images_generations(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post(self.url(str(body.get("model", "")), "images/generations"), body)

    async def images_edits(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post_form(self.url(str(body.get("model", "")), "images/edits"), body)

    async def images_variations(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post_form(self.url(str(body.get("model", "")), "images/variations"), body)

    async def audio_speech(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post(self.url(str(body.get("model", "")), "audio/speech"), body)

    async def audio_transcriptions(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post_form(self.url(str(body.get("model", "")), "audio/transcriptions"), body)

    async def audio_translations(self, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post_form(self.url(str(body.get("model", "")), "audio/translations"), body)

    async def post_form(self, url: str, body: dict[str, Any]) -> HttpUpstreamResponse:
        """A multipart body (files as files): aiohttp writes its own Content-Type and boundary."""
        headers = {name: value for name, value in self.headers.items() if name != "Content-Type"}
        return await self._send(url, form_data(body), headers)

    async def post(self, url: str, body: dict[str, Any]) -> HttpUpstreamResponse:
        return await self.post_bytes(url, orjson.dumps(body))

    async def post_bytes(
        self, url: str | URL, data: bytes, signed_headers: dict[str, str] | None = None
    ) -> HttpUpstreamResponse:
        headers = {**self.headers, **signed_headers} if signed_headers else self.headers
        return await self._send(url, data, headers)

    async def _send(
        self, url: str | URL, data: bytes | aiohttp.FormData, headers: dict[str, str]
    ) -> HttpUpstreamResponse:
        try:
            response = await self._session.post(
                url, data=data, headers=headers, timeout=self._timeout, allow_redirects=False
            )
        except TimeoutError:
            raise RingsideError("upstream_timeout", f"Provider '{self.id}' did not answer in time.") from None
        except aiohttp.ClientError as error:
            raise RingsideError("upstream_error", f"Provider '{self.id}' could not be reached: {error}.") from None
        return HttpUpstreamResponse(response)
